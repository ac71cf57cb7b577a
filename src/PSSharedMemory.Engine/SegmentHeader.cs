using System;
using System.Threading;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// The one typed view of a segment's 128-byte header (laid out in <see cref="SegmentLayout"/>): every
    /// field by name, plus initialising, validating and marking a header removed. No other file does
    /// pointer arithmetic on the header. Callers make sure the mapping is alive and backed by the file.
    /// </summary>
    internal readonly unsafe struct SegmentHeader
    {
        private const long UnixEpochTicks = 621355968000000000L;

        private readonly byte* _base;

        public SegmentHeader(byte* mappingBase) => _base = mappingBase;

        /// <summary>The first payload byte.</summary>
        public byte* Payload => _base + SegmentLayout.HeaderSize;

        public ulong Magic => *(ulong*)(_base + SegmentLayout.MagicOffset);

        public ushort LayoutVersion => *(ushort*)(_base + SegmentLayout.LayoutVersionOffset);

        public ushort HeaderSize => *(ushort*)(_base + SegmentLayout.HeaderSizeOffset);

        /// <summary>The payload's size in bytes: fixed at creation, or (layout 2) raised by every grow.</summary>
        public ref long Size => ref *(long*)(_base + SegmentLayout.CapacityOffset);

        /// <summary>Layout 2: the most <see cref="Size"/> may grow to. Zero in layout 1.</summary>
        public long MaxSize => *(long*)(_base + SegmentLayout.MaxSizeOffset);

        /// <summary>True for layout 2, whose size may grow.</summary>
        public bool IsGrowable => LayoutVersion == SegmentLayout.GrowableLayoutVersion;

        /// <summary>True for layout 3, a queue.</summary>
        public bool IsQueue => LayoutVersion == SegmentLayout.QueueLayoutVersion;

        /// <summary>Layout 3: the position of the oldest message; it only rises.</summary>
        public ref long Head => ref *(long*)(_base + SegmentLayout.HeadOffset);

        /// <summary>Layout 3: the position after the newest message; it only rises. Tail - Head bytes are in use.</summary>
        public ref long Tail => ref *(long*)(_base + SegmentLayout.TailOffset);

        /// <summary>Layout 3: bumped after every receive; senders waiting for room sleep on it.</summary>
        public int* SpaceWord => (int*)(_base + SegmentLayout.SpaceWordOffset);

        public SegmentFlags Flags => (SegmentFlags)Volatile.Read(ref *(uint*)(_base + SegmentLayout.FlagsOffset));

        public bool IsRemoved => (Flags & SegmentFlags.Removed) != 0;

        /// <summary>The seqlock counter: twice the version, plus one while a write is in progress.</summary>
        public ref long Sequence => ref *(long*)(_base + SegmentLayout.SequenceOffset);

        public ref long PayloadLength => ref *(long*)(_base + SegmentLayout.PayloadLengthOffset);

        public ref uint ContentType => ref *(uint*)(_base + SegmentLayout.ContentTypeOffset);

        public ref int LastWriterPid => ref *(int*)(_base + SegmentLayout.LastWriterPidOffset);

        public ref long LastWriteTime => ref *(long*)(_base + SegmentLayout.LastWriteTimeOffset);

        public long CreationTime => *(long*)(_base + SegmentLayout.CreationTimeOffset);

        public int CreatorPid => *(int*)(_base + SegmentLayout.CreatorPidOffset);

        public ref int LockOwnerPid => ref *(int*)(_base + SegmentLayout.LockOwnerPidOffset);

        /// <summary>A lock holder that died and that no locking caller has reported yet; 0 when none.</summary>
        public ref int AbandonedLockPid => ref *(int*)(_base + SegmentLayout.AbandonedLockPidOffset);

        /// <summary>Bumped after every write and on removal; change waiters sleep on it.</summary>
        public int* ChangeWord => (int*)(_base + SegmentLayout.ChangeWordOffset);

        /// <summary>Bumped after every unlock and on removal; lock waiters sleep on it.</summary>
        public int* LockWord => (int*)(_base + SegmentLayout.LockWordOffset);

        /// <summary>
        /// The fields a write changes, read between two looks at the sequence so they never mix two writes;
        /// while a write is in progress, or after one was interrupted, the last fields seen.
        /// </summary>
        public Snapshot TakeSnapshot()
        {
            var spinner = new SpinWait();
            Snapshot snapshot;
            int attempts = 0;
            do
            {
                snapshot.Sequence = Volatile.Read(ref Sequence);
                snapshot.PayloadLength = Volatile.Read(ref PayloadLength);
                snapshot.ContentType = Volatile.Read(ref ContentType);
                snapshot.LastWriterPid = Volatile.Read(ref LastWriterPid);
                snapshot.LastWriteTime = Volatile.Read(ref LastWriteTime);
                Interlocked.MemoryBarrier();
                if ((snapshot.Sequence & 1) == 0 && Volatile.Read(ref Sequence) == snapshot.Sequence)
                {
                    break;
                }

                spinner.SpinOnce();
            }
            while (++attempts < 64);

            return snapshot;
        }

        /// <summary>Writes a fresh header into a zero-filled file that no other process can see yet.</summary>
        /// <param name="size">The payload's size in bytes.</param>
        /// <param name="scope">The namespace, recorded in the flags.</param>
        /// <param name="creatorPid">The creating process.</param>
        /// <param name="maxSize">Zero for a segment of fixed size (layout 1); otherwise the most it may grow to (layout 2).</param>
        /// <param name="queue">True for a queue (layout 3), whose ring starts empty.</param>
        public void Initialize(long size, SharedMemoryScope scope, int creatorPid, long maxSize, bool queue = false)
        {
            long now = ToUnixNanoseconds(DateTime.UtcNow);
            *(ulong*)(_base + SegmentLayout.MagicOffset) = SegmentLayout.Magic;
            *(ushort*)(_base + SegmentLayout.LayoutVersionOffset) = queue ? SegmentLayout.QueueLayoutVersion
                : maxSize == 0 ? SegmentLayout.LayoutVersion : SegmentLayout.GrowableLayoutVersion;
            if (!queue)
            {
                *(long*)(_base + SegmentLayout.MaxSizeOffset) = maxSize;
            }

            *(ushort*)(_base + SegmentLayout.HeaderSizeOffset) = SegmentLayout.HeaderSize;
            *(uint*)(_base + SegmentLayout.FlagsOffset) = (uint)(scope == SharedMemoryScope.Global ? SegmentFlags.Global : SegmentFlags.None);
            *(long*)(_base + SegmentLayout.CapacityOffset) = size;
            *(long*)(_base + SegmentLayout.CreationTimeOffset) = now;
            *(long*)(_base + SegmentLayout.LastWriteTimeOffset) = now;
            *(int*)(_base + SegmentLayout.CreatorPidOffset) = creatorPid;
        }

        /// <summary>
        /// Null when the header is valid for a file holding <paramref name="mappedSize"/> payload bytes;
        /// otherwise why not, as a phrase that completes "the segment is corrupted: ...". A growable
        /// segment's size may exceed what was mapped: another process grew it since (the caller maps again).
        /// </summary>
        public string? Validate(long mappedSize)
        {
            if (Magic != SegmentLayout.Magic)
            {
                return "its header does not start with the PSSharedMemory magic number";
            }

            if (LayoutVersion != SegmentLayout.LayoutVersion && LayoutVersion != SegmentLayout.GrowableLayoutVersion && LayoutVersion != SegmentLayout.QueueLayoutVersion)
            {
                return $"its layout version is {LayoutVersion}, and this version of PSSharedMemory reads only versions {SegmentLayout.LayoutVersion} to {SegmentLayout.QueueLayoutVersion}";
            }

            if (HeaderSize != SegmentLayout.HeaderSize)
            {
                return $"its header size is {HeaderSize}, not {SegmentLayout.HeaderSize}";
            }

            long size = Volatile.Read(ref Size);
            if (IsGrowable)
            {
                long maxSize = MaxSize;
                if (maxSize < 1 || maxSize > SharedMemorySegment.MaxSize || size < 1 || size > maxSize)
                {
                    return $"its header says the size is {size} bytes and the largest {maxSize}, which is impossible";
                }
            }
            else if (size != mappedSize)
            {
                return $"its header says the size is {size} bytes but the file holds {mappedSize}";
            }

            if (IsQueue)
            {
                uint queueFlags = (uint)Flags;
                if ((queueFlags & ~SegmentLayout.KnownFlags) != 0)
                {
                    return $"its flags (0x{queueFlags:x}) include bits this version does not know";
                }

                return QueueProblem(Volatile.Read(ref Head), Volatile.Read(ref Tail), size);
            }

            uint flags = (uint)Flags;
            if ((flags & ~SegmentLayout.KnownFlags) != 0)
            {
                return $"its flags (0x{flags:x}) include bits this version does not know";
            }

            return PayloadProblem(PayloadLength, ContentType, size);
        }

        /// <summary>
        /// A few loads that catch a header damaged by another process since it was opened; false sends
        /// the caller to <see cref="Validate"/> for the reason.
        /// </summary>
        public bool LooksIntact(long mappedSize)
        {
            uint versionAndHeaderSize = *(uint*)(_base + SegmentLayout.LayoutVersionOffset);
            long size = Volatile.Read(ref Size);
            bool sizeFits = versionAndHeaderSize == (SegmentLayout.LayoutVersion | ((uint)SegmentLayout.HeaderSize << 16))
                || versionAndHeaderSize == (SegmentLayout.QueueLayoutVersion | ((uint)SegmentLayout.HeaderSize << 16))
                ? size == mappedSize
                : versionAndHeaderSize == (SegmentLayout.GrowableLayoutVersion | ((uint)SegmentLayout.HeaderSize << 16))
                    && size >= 1 && size <= MaxSize && MaxSize <= SharedMemorySegment.MaxSize;
            return Magic == SegmentLayout.Magic && sizeFits && ((uint)Flags & ~SegmentLayout.KnownFlags) == 0;
        }

        /// <summary>Layout 3: null when the ring's positions are possible for its size; otherwise why not.</summary>
        public static string? QueueProblem(long head, long tail, long size) =>
            size % SegmentLayout.RecordAlignment != 0 || size < 2 * SegmentLayout.RecordHeaderSize
                ? $"its queue size ({size}) is not a multiple of {SegmentLayout.RecordAlignment} of at least {2 * SegmentLayout.RecordHeaderSize}"
                : head < 0 || tail < head || tail - head > size || head % SegmentLayout.RecordAlignment != 0 || tail % SegmentLayout.RecordAlignment != 0
                    ? $"its queue positions (head {head}, tail {tail}) are impossible for a ring of {size} bytes"
                    : null;

        /// <summary>Null when a payload length and content type are in range; otherwise why not.</summary>
        public static string? PayloadProblem(long length, uint contentType, long size) =>
            length < 0 || length > size || contentType > SegmentLayout.MaxContentType
                ? $"its payload length ({length}) or content type ({contentType}) is out of range"
                : null;

        /// <summary>
        /// Sets the Removed flag and wakes every waiter through <paramref name="mapping"/>: handles other
        /// processes hold fail on their next operation, and waits end.
        /// </summary>
        public void MarkRemoved(SegmentMapping mapping)
        {
            ref int flags = ref *(int*)(_base + SegmentLayout.FlagsOffset);
            int seen;
            do
            {
                seen = Volatile.Read(ref flags);
            }
            while (Interlocked.CompareExchange(ref flags, seen | (int)SegmentFlags.Removed, seen) != seen);

            Interlocked.Increment(ref *ChangeWord);
            Interlocked.Increment(ref *LockWord);
            mapping.WakeAll(ChangeWord);
            mapping.WakeAll(LockWord);
        }

        /// <summary>The fields of one write, as <see cref="TakeSnapshot"/> read them.</summary>
        public struct Snapshot
        {
            public long Sequence;
            public long PayloadLength;
            public uint ContentType;
            public int LastWriterPid;
            public long LastWriteTime;
        }

        public static long ToUnixNanoseconds(DateTime utc) => (utc.Ticks - UnixEpochTicks) * 100;

        public static DateTime FromUnixNanoseconds(long nanoseconds)
        {
            long ticks = nanoseconds / 100 + UnixEpochTicks;
            return ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks
                ? DateTime.MinValue
                : new DateTime(ticks, DateTimeKind.Utc);
        }
    }
}
