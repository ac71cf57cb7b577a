using System;
using System.ComponentModel;

namespace PSSharedMemory.Engine
{
    /// <summary>What <see cref="SharedMemorySegment.List"/> reports about one segment.</summary>
    public sealed class SharedMemorySegmentInfo
    {
        internal SharedMemorySegmentInfo(string name, SharedMemoryScope scope, long size, long length,
            SharedMemoryContentType contentType, long version, int lastWriterProcessId, DateTime lastWriteTimeUtc,
            DateTime creationTimeUtc, int creatorProcessId, bool isReadOnly)
        {
            Name = name;
            Scope = scope;
            Size = size;
            Length = length;
            ContentType = contentType;
            Version = version;
            LastWriterProcessId = lastWriterProcessId;
            LastWriteTimeUtc = lastWriteTimeUtc;
            CreationTimeUtc = creationTimeUtc;
            CreatorProcessId = creatorProcessId;
            IsReadOnly = isReadOnly;
            Status = SharedMemorySegmentStatus.Ok;
        }

        /// <summary>A file with a segment's name that cannot be used as one; only its name and the reason are known.</summary>
        internal static SharedMemorySegmentInfo Damaged(string name, SharedMemoryScope scope, string problem) =>
            new SharedMemorySegmentInfo(name, scope, 0, 0, SharedMemoryContentType.Empty, 0, 0, DateTime.MinValue, DateTime.MinValue, 0, false)
            {
                Status = SharedMemorySegmentStatus.Damaged,
                Problem = problem,
            };

        /// <summary>The segment's name.</summary>
        public string Name { get; }

        /// <summary>The store that holds the segment: "Local", or a server's URI without its password.</summary>
        public string Store { get; internal set; } = LocalSharedMemoryStore.LocalLocation;

        /// <summary>The host of the lock's holder, where the store records it (a server store); empty otherwise.</summary>
        public string LockHolderHost { get; internal set; } = string.Empty;

        /// <summary>The host of the last writer, where the store records it (a server store); empty otherwise.</summary>
        public string LastWriterHost { get; internal set; } = string.Empty;

        /// <summary>The namespace the segment lives in.</summary>
        public SharedMemoryScope Scope { get; }

        /// <summary>The payload's size in bytes: fixed at creation, or the current size of a growable segment.</summary>
        public long Size { get; }

        /// <summary>What the segment holds: one value, or a queue of messages.</summary>
        public SharedMemorySegmentKind Kind { get; internal set; }

        /// <summary>A queue's messages when the info was taken; 0 for a value segment.</summary>
        public long MessageCount { get; internal set; }

        /// <summary>True when the segment grows to hold a larger write instead of refusing it.</summary>
        public bool IsGrowable { get; internal set; }

        /// <summary>The most the segment can hold: <see cref="Size"/> when it is fixed, the limit of its growth otherwise.</summary>
        public long MaximumSize { get; internal set; }

        /// <summary>The former name of <see cref="Size"/>.</summary>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public long Capacity => Size;

        /// <summary>Bytes of payload stored.</summary>
        public long Length { get; }

        /// <summary>What the payload holds.</summary>
        public SharedMemoryContentType ContentType { get; }

        /// <summary>The number of completed writes.</summary>
        public long Version { get; }

        /// <summary>The former name of <see cref="Version"/>.</summary>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public long Sequence => Version;

        /// <summary>The process that wrote last, 0 before the first write.</summary>
        public int LastWriterProcessId { get; }

        /// <summary>When the last write completed; the creation time before the first write.</summary>
        public DateTime LastWriteTimeUtc { get; }

        /// <summary>When the segment was created.</summary>
        public DateTime CreationTimeUtc { get; }

        /// <summary>The process that created the segment.</summary>
        public int CreatorProcessId { get; }

        /// <summary>True when this user may read the segment but not write it.</summary>
        public bool IsReadOnly { get; }

        /// <summary>True when some handle held the segment's lock when this was read.</summary>
        public bool IsLocked { get; internal set; }

        /// <summary>The process holding the lock when this was read; 0 when it was free (or its holder not yet recorded).</summary>
        public int LockHolderProcessId { get; internal set; }

        /// <summary>Ok, or Damaged for a file that has a segment's name but cannot be used as one.</summary>
        public SharedMemorySegmentStatus Status { get; private set; }

        /// <summary>Why the segment is Damaged; null when it is Ok.</summary>
        public string? Problem { get; private set; }
    }

    /// <summary>Whether a listed segment can be used.</summary>
    public enum SharedMemorySegmentStatus
    {
        /// <summary>A valid segment.</summary>
        Ok = 0,

        /// <summary>
        /// A file with a segment's name that is not a usable segment: corrupted, cut short, a symbolic link,
        /// not a regular file, or owned by another user. It can be removed.
        /// </summary>
        Damaged,
    }
}
