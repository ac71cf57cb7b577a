using System;
using System.ComponentModel;
using PSSharedMemory.Engine;

namespace PSSharedMemory
{
    /// <summary>
    /// A shared memory segment as the cmdlets show it: a snapshot of its header taken when the object was made.
    /// Serialized copies (in jobs, runspaces or files) still bind to -InputObject: <see cref="SharedMemoryInfoConverter"/>
    /// turns them back into this type, and nothing else does.
    /// </summary>
    [TypeConverter(typeof(SharedMemoryInfoConverter))]
    public sealed class SharedMemoryInfo
    {
        internal SharedMemoryInfo(string name, SharedMemoryScope scope, long size, long length, SharedMemoryContentType contentType,
            long version, int lastWriterProcessId, DateTime lastWriteTime, DateTime creationTime, int creatorProcessId,
            SharedMemorySegmentStatus status, string? problem, bool isReadOnly, bool isLocked, int lockHolderProcessId, string? lockHolderProcessName)
        {
            Name = name;
            Scope = scope;
            Size = size;
            Length = length;
            ContentType = contentType;
            Version = version;
            LastWriterProcessId = lastWriterProcessId;
            LastWriteTime = lastWriteTime;
            CreationTime = creationTime;
            CreatorProcessId = creatorProcessId;
            Status = status;
            Problem = problem;
            IsReadOnly = isReadOnly;
            IsLocked = isLocked;
            LockHolderProcessId = lockHolderProcessId;
            LockHolderProcessName = lockHolderProcessName ?? string.Empty;
        }

        internal SharedMemoryInfo(SharedMemorySegmentInfo info)
        {
            Name = info.Name;
            Scope = info.Scope;
            Size = info.Size;
            Length = info.Length;
            ContentType = info.ContentType;
            Version = info.Version;
            LastWriterProcessId = info.LastWriterProcessId;
            LastWriteTime = info.LastWriteTimeUtc.ToLocalTime();
            CreationTime = info.CreationTimeUtc.ToLocalTime();
            CreatorProcessId = info.CreatorProcessId;
            Status = info.Status;
            Problem = info.Problem;
            IsReadOnly = info.IsReadOnly;
            IsGrowable = info.IsGrowable;
            MaximumSize = info.MaximumSize;
            Kind = info.Kind;
            MessageCount = info.MessageCount;
            IsLocked = info.IsLocked;
            LockHolderProcessId = info.LockHolderProcessId;
            Store = info.Store;
            LastWriterHost = info.LastWriterHost;
            LockHolderHost = info.LockHolderHost;
            LockHolderProcessName = string.IsNullOrEmpty(info.LockHolderHost) || IsThisHost(info.LockHolderHost) ? ProcessName(info.LockHolderProcessId) : string.Empty;
        }

        /// <summary>The segment's name.</summary>
        public string Name { get; }

        /// <summary>The store that holds the segment: Local (shared memory on this machine), or a Redis server's URI without its password.</summary>
        public string Store { get; internal set; } = LocalSharedMemoryStore.LocalLocation;

        /// <summary>User (only this user) or Global (machine-wide).</summary>
        public SharedMemoryScope Scope { get; }

        /// <summary>Payload size in bytes: fixed, or for a growable segment its size now. For a queue: the bytes its messages can take.</summary>
        public long Size { get; }

        /// <summary>Value (one payload that each write replaces) or Queue (messages, each received once).</summary>
        public SharedMemorySegmentKind Kind { get; internal set; }

        /// <summary>For a queue: the messages it held when this object was made. 0 for a value segment.</summary>
        public long MessageCount { get; internal set; }

        /// <summary>True when a larger write grows the segment (up to MaximumSize) instead of failing.</summary>
        public bool IsGrowable { get; internal set; }

        /// <summary>The most the segment can hold: Size when it is fixed, the limit of its growth when it is growable.</summary>
        public long MaximumSize { get; internal set; }

        /// <summary>Bytes of payload stored by the last write. For a queue: the bytes its messages take, record headers included.</summary>
        public long Length { get; }

        /// <summary>What the payload holds: Empty, Text, Bytes or CliXml. Empty for a queue, whose messages each have their own.</summary>
        public SharedMemoryContentType ContentType { get; }

        /// <summary>The number of completed writes; for a queue, the number of messages sent to it.</summary>
        public long Version { get; }

        /// <summary>The process that wrote (or sent) last, 0 before the first write.</summary>
        public int LastWriterProcessId { get; }

        /// <summary>When the last write (or send) completed (local time); the creation time before the first write.</summary>
        public DateTime LastWriteTime { get; }

        /// <summary>When the segment was created (local time).</summary>
        public DateTime CreationTime { get; }

        /// <summary>The process that created the segment.</summary>
        public int CreatorProcessId { get; }

        /// <summary>Ok, or Damaged for a file with a segment's name that cannot be used as one (it can be removed).</summary>
        public SharedMemorySegmentStatus Status { get; }

        /// <summary>Why the segment is Damaged; empty when it is Ok.</summary>
        public string? Problem { get; }

        /// <summary>True when this user may read the segment but not write, lock or remove it.</summary>
        public bool IsReadOnly { get; }

        /// <summary>True when some session held the segment's lock when this object was made.</summary>
        public bool IsLocked { get; }

        /// <summary>The process that held the lock when this object was made; 0 when the lock was free (or its holder not yet recorded).</summary>
        public int LockHolderProcessId { get; }

        /// <summary>The name of the process that held the lock, where the operating system tells it; empty when the lock was free, or the process is gone or hidden.</summary>
        public string LockHolderProcessName { get; }

        /// <summary>The host of the process that wrote last, for a server store; empty for the local store.</summary>
        public string LastWriterHost { get; internal set; } = string.Empty;

        /// <summary>The host of the process that held the lock, for a server store; empty for the local store or a free lock.</summary>
        public string LockHolderHost { get; internal set; } = string.Empty;

        /// <summary>The name, so that the object converts to the string a -Name parameter wants.</summary>
        public override string ToString() => Name;

        private static bool IsThisHost(string host) => string.Equals(host, Environment.MachineName, StringComparison.OrdinalIgnoreCase);

        private static string ProcessName(int processId)
        {
            if (processId <= 0)
            {
                return string.Empty;
            }

            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(processId);
                return process.ProcessName;
            }
            catch (Exception e) when (e is ArgumentException || e is InvalidOperationException || e is System.ComponentModel.Win32Exception || e is NotSupportedException || e is UnauthorizedAccessException)
            {
                // Ended since, or not this user's to look at.
                return string.Empty;
            }
        }
    }
}
