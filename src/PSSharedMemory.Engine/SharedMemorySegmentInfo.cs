using System;

namespace PSSharedMemory.Engine
{
    /// <summary>What <see cref="SharedMemorySegment.List"/> reports about one segment.</summary>
    public sealed class SharedMemorySegmentInfo
    {
        internal SharedMemorySegmentInfo(string name, SharedMemoryScope scope, long capacity, long length,
            SharedMemoryContentType contentType, long sequence, int lastWriterProcessId, DateTime lastWriteTimeUtc,
            DateTime creationTimeUtc, int creatorProcessId)
        {
            Name = name;
            Scope = scope;
            Capacity = capacity;
            Length = length;
            ContentType = contentType;
            Sequence = sequence;
            LastWriterProcessId = lastWriterProcessId;
            LastWriteTimeUtc = lastWriteTimeUtc;
            CreationTimeUtc = creationTimeUtc;
            CreatorProcessId = creatorProcessId;
        }

        /// <summary>The segment's name.</summary>
        public string Name { get; }

        /// <summary>The namespace the segment lives in.</summary>
        public SharedMemoryScope Scope { get; }

        /// <summary>Payload capacity in bytes.</summary>
        public long Capacity { get; }

        /// <summary>Bytes of payload stored.</summary>
        public long Length { get; }

        /// <summary>What the payload holds.</summary>
        public SharedMemoryContentType ContentType { get; }

        /// <summary>The number of completed writes.</summary>
        public long Sequence { get; }

        /// <summary>The process that wrote last, 0 before the first write.</summary>
        public int LastWriterProcessId { get; }

        /// <summary>When the last write completed; the creation time before the first write.</summary>
        public DateTime LastWriteTimeUtc { get; }

        /// <summary>When the segment was created.</summary>
        public DateTime CreationTimeUtc { get; }

        /// <summary>The process that created the segment.</summary>
        public int CreatorProcessId { get; }
    }
}
