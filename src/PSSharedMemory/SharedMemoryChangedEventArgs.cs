using System;
using PSSharedMemory.Engine;

namespace PSSharedMemory
{
    /// <summary>
    /// The arguments of a <see cref="SharedMemoryEventSource.Changed"/> event: which segment changed, its new
    /// version and who wrote it. In PowerShell they are $Event.SourceEventArgs, or $EventArgs in an -Action block.
    /// </summary>
    public sealed class SharedMemoryChangedEventArgs : EventArgs
    {
        internal SharedMemoryChangedEventArgs(SharedMemoryInfo segment)
        {
            Segment = segment;
        }

        /// <summary>The segment's name.</summary>
        public string Name => Segment.Name;

        /// <summary>The segment's scope.</summary>
        public SharedMemoryScope Scope => Segment.Scope;

        /// <summary>The segment's version when the change was seen.</summary>
        public long Version => Segment.Version;

        /// <summary>The process that made that version.</summary>
        public int LastWriterProcessId => Segment.LastWriterProcessId;

        /// <summary>When that version was written (local time).</summary>
        public DateTime LastWriteTime => Segment.LastWriteTime;

        /// <summary>The segment object as Get-SharedMemory would have shown it then; pipe it to Read-SharedMemory.</summary>
        public SharedMemoryInfo Segment { get; }

        /// <summary>Name, version and writer, for display.</summary>
        public override string ToString() => $"{Name} version {Version} by process {LastWriterProcessId}";
    }
}
