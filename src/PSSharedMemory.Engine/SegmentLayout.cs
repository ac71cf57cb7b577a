namespace PSSharedMemory.Engine
{
    /// <summary>
    /// The segment header, laid out in one place. Every multi-byte field is little-endian and
    /// naturally aligned. docs/segment-format.md documents the same table for other languages.
    /// </summary>
    internal static class SegmentLayout
    {
        /// <summary>"PSSHMEM" followed by a NUL, read as a little-endian u64.</summary>
        public const ulong Magic = 0x004D454D48535350UL;

        /// <summary>A segment of fixed size: the layout every version of PSSharedMemory reads.</summary>
        public const ushort LayoutVersion = 1;

        /// <summary>
        /// A growable segment: <c>Size</c> is its current size, which writers may raise (never lower) up to
        /// <c>MaxSize</c>. Readers that know only version 1 refuse it rather than miss a grow.
        /// </summary>
        public const ushort GrowableLayoutVersion = 2;

        /// <summary>
        /// A queue: the payload area is a ring of messages between <c>Head</c> and <c>Tail</c>. Readers of
        /// versions 1 and 2 refuse it.
        /// </summary>
        public const ushort QueueLayoutVersion = 3;

        /// <summary>The payload starts here; 128 keeps it cache-line aligned.</summary>
        public const int HeaderSize = 128;

        // Offsets of the header fields.
        public const int MagicOffset = 0;              // u64  Magic
        public const int LayoutVersionOffset = 8;      // u16  LayoutVersion
        public const int HeaderSizeOffset = 10;        // u16  HeaderSize
        public const int FlagsOffset = 12;             // u32  SegmentFlags
        public const int CapacityOffset = 16;          // u64  payload size in bytes; layout 2: rises when the segment grows
        public const int SequenceOffset = 24;          // u64  seqlock: odd while a write is in progress
        public const int PayloadLengthOffset = 32;     // u64  bytes of payload currently stored
        public const int ContentTypeOffset = 40;       // u32  SharedMemoryContentType
        public const int ChangeWordOffset = 44;        // u32  futex word, bumped after every write and on removal
        public const int ChangeWaitersOffset = 48;     // u32  processes blocked on ChangeWord
        public const int LastWriterPidOffset = 52;     // u32  process id of the last writer
        public const int LastWriteTimeOffset = 56;     // i64  last write, nanoseconds since 1970-01-01 UTC
        public const int CreationTimeOffset = 64;      // i64  creation, nanoseconds since 1970-01-01 UTC
        public const int CreatorPidOffset = 72;        // u32  process id of the creator
        public const int LockWordOffset = 76;          // u32  futex word, bumped after every unlock
        public const int LockWaitersOffset = 80;       // u32  processes blocked on LockWord
        public const int LockOwnerPidOffset = 84;      // u32  process holding the lock, 0 when free
        public const int AbandonedLockPidOffset = 88;  // u32  a holder that died with the lock, not yet reported; 0 none
        // 92..95 reserved, zero.
        public const int MaxSizeOffset = 96;           // u64  layout 2: the most Size may grow to; layout 1: zero
        // 104..127 reserved, zero.

        // Layout 3 (queues) uses 96..127 for the ring instead.
        public const int HeadOffset = 96;              // u64  layout 3: position of the oldest message (counts up, never wraps)
        public const int TailOffset = 104;             // u64  layout 3: position after the newest message
        // 112..119 reserved, zero.
        public const int SpaceWordOffset = 120;        // u32  layout 3: futex word, bumped after every receive
        public const int SpaceWaitersOffset = 124;     // u32  layout 3: processes blocked on SpaceWord

        /// <summary>Layout 3: each message starts with a 16-byte record header: u32 length, u32 content type, u64 version.</summary>
        public const int RecordHeaderSize = 16;

        /// <summary>Layout 3: records start at multiples of 8, and the ring's size is one too.</summary>
        public const int RecordAlignment = 8;

        // Each wait word is followed directly by its waiter count; the Windows backend relies on that.

        /// <summary>Highest content type this layout version defines.</summary>
        public const uint MaxContentType = (uint)SharedMemoryContentType.CliXml;

        /// <summary>Bits of the flags field this layout version defines.</summary>
        public const uint KnownFlags = (uint)(SegmentFlags.Removed | SegmentFlags.Global);
    }

    /// <summary>Bits of the header's flags field.</summary>
    [System.Flags]
    internal enum SegmentFlags : uint
    {
        None = 0,

        /// <summary>The segment was removed; handles still open must stop using it.</summary>
        Removed = 1,

        /// <summary>The segment was created in the global scope.</summary>
        Global = 2,
    }
}
