using System;
using System.Diagnostics;
using System.Threading;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// The write and read protocol of a segment's payload, a sequence lock (docs/segment-format.md, "The
    /// sequence and the write protocol"). A writer takes the lock, makes the sequence odd, copies the
    /// payload and its header fields, and makes the sequence even again, one higher. A reader copies
    /// without any system call and keeps the copy only if the sequence was even and unchanged around it;
    /// when writers keep it from a clean copy, it reads under the lock, where an odd sequence means a
    /// writer died mid-write (InterruptedWrite). So no reader ever returns half a write.
    /// </summary>
    internal sealed unsafe class PayloadChannel
    {
        private const int OptimisticReadAttempts = 64;
        private const int ChangeWaitSliceMilliseconds = 200;

        /// <summary>How long a change wait looks for the change before its first sleep: 200 µs.</summary>
        private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 5_000;

        // Pause between two looks while spinning (a few hundred nanoseconds).
        private const int SpinIterations = 20;

        /// <summary>
        /// A wait spins only when this handle's last wait ended less than this long ago (1 ms): the caller is in
        /// a tight exchange with another process, whose reply may come within the spin.
        /// </summary>
        private static readonly long HotGapTicks = System.Diagnostics.Stopwatch.Frequency / 1_000;

        private static readonly int s_processId = Process.GetCurrentProcess().Id;

        private readonly SegmentView _view;
        private readonly SegmentLock _lock;

        // Orders a write and a locked read of this same handle on two threads, which share the lock.
        private readonly object _writeGate = new object();

        // When the last wait of this handle returned (Stopwatch ticks; 0: none yet).
        private long _lastWaitEnd;

        public PayloadChannel(SegmentView view, SegmentLock segmentLock)
        {
            _view = view;
            _lock = segmentLock;
        }

        /// <summary>
        /// Writes a payload that the caller checked is within the segment's largest size, replacing the
        /// stored one, or after it when <paramref name="append"/>; returns the new version. With
        /// <paramref name="expectedVersion"/>, only when the segment is still at that version (checked under
        /// the lock), else VersionMismatch and nothing changes. A growable segment grows first when the
        /// payload needs it. The caller holds <paramref name="lease"/>.
        /// </summary>
        public long Write<TWriter>(ref SegmentView.Lease lease, SharedMemoryContentType contentType, long? expectedVersion, bool append, TimeSpan lockTimeout, CancellationToken cancellationToken, ref TWriter writer)
            where TWriter : struct, IPayloadWriter
        {
            _lock.Acquire(lockTimeout, cancellationToken);
            try
            {
                lock (_writeGate)
                {
                    _view.ThrowIfUnusable();
                    SegmentHeader header = _view.Header;
                    ref long sequence = ref header.Sequence;
                    long before = Volatile.Read(ref sequence);
                    if (expectedVersion is long expected && (before >> 1) != expected)
                    {
                        throw SegmentErrors.VersionMismatch(_view.Name, expected, before >> 1);
                    }

                    long offset = append ? AppendOffset(before, contentType) : 0;
                    long room = _view.Size - offset;
                    if (writer.MaxByteCount > room)
                    {
                        long count = writer.ByteCount;
                        if (count > room)
                        {
                            if (!_view.IsGrowable || count > _view.MaxSize - offset)
                            {
                                throw SegmentErrors.PayloadTooLarge(_view.Name, offset + count, _view.MaxSize);
                            }

                            _view.Grow(offset + count, ref lease);
                        }
                    }

                    // Another process may have grown the segment since this operation began.
                    MappedRegion region = lease.Region;
                    if (_view.IsGrowable && _view.Size > region.Size)
                    {
                        region = MoveToCurrentRegion(ref lease);
                    }

                    // Odd: a write in progress. After an interrupted write it is already odd; keep it odd and rising.
                    long writing = (before & 1) == 0 ? before + 1 : before + 2;
                    Volatile.Write(ref sequence, writing);
                    Interlocked.MemoryBarrier();

                    long written = writer.WriteTo(region.Payload + offset, _view.Size - offset);
                    header.PayloadLength = offset + written;
                    header.ContentType = (uint)contentType;
                    header.LastWriterPid = s_processId;
                    header.LastWriteTime = SegmentHeader.ToUnixNanoseconds(DateTime.UtcNow);

                    Volatile.Write(ref sequence, writing + 1);
                    _view.ChangeWord.Bump();
                    return (writing + 1) >> 1;
                }
            }
            finally
            {
                _lock.Release(checkFile: false);
            }
        }

        /// <summary>Where an append goes: after the stored payload, which must be complete and of the same type.</summary>
        private long AppendOffset(long sequence, SharedMemoryContentType contentType)
        {
            if ((sequence & 1) != 0)
            {
                throw SegmentErrors.InterruptedWrite(_view.Name);
            }

            SegmentHeader header = _view.Header;
            var stored = (SharedMemoryContentType)header.ContentType;
            if (contentType == SharedMemoryContentType.CliXml || (stored != SharedMemoryContentType.Empty && stored != contentType))
            {
                throw SegmentErrors.ContentTypeMismatch(_view.Name, stored, contentType);
            }

            long length = header.PayloadLength;
            if (length < 0 || length > _view.Size)
            {
                throw SegmentErrors.Corrupted(_view.Name, SegmentHeader.PayloadProblem(length, header.ContentType, _view.Size)!);
            }

            return length;
        }

        /// <summary>Reads a consistent copy; returns its version. The caller holds <paramref name="lease"/>.</summary>
        public long Read<TReader>(ref SegmentView.Lease lease, TimeSpan lockTimeout, CancellationToken cancellationToken, ref TReader reader)
            where TReader : struct, IPayloadReader
        {
            _view.ThrowIfUnusable();
            if (_view.IsQueue)
            {
                throw SegmentErrors.WrongKind(_view.Name, SharedMemorySegmentKind.Queue, "read");
            }

            SegmentHeader header = _view.Header;
            MappedRegion region = lease.Region;

            // Another process may have damaged the header since it was opened; a few loads catch that.
            if (!header.LooksIntact(region.Size) && header.Validate(region.Size) is string damage)
            {
                throw SegmentErrors.Corrupted(_view.Name, damage);
            }

            ref long sequence = ref header.Sequence;
            var spinner = new SpinWait();
            for (int attempt = 0; attempt < OptimisticReadAttempts; attempt++)
            {
                long before = Volatile.Read(ref sequence);
                if ((before & 1) == 0)
                {
                    long length = Volatile.Read(ref header.PayloadLength);
                    uint type = Volatile.Read(ref header.ContentType);

                    // Never copy past this region; a payload the region does not cover is damage, or a grow.
                    string? problem = SegmentHeader.PayloadProblem(length, type, region.Size);
                    if (problem is null)
                    {
                        reader.ReadFrom(region.Payload, length, (SharedMemoryContentType)type);
                    }

                    Interlocked.MemoryBarrier();
                    if (Volatile.Read(ref sequence) == before)
                    {
                        if (problem is not null)
                        {
                            if (_view.IsGrowable && SegmentHeader.PayloadProblem(length, type, _view.Size) is null)
                            {
                                // Another process grew the segment and wrote more than this region holds.
                                region = MoveToCurrentRegion(ref lease);
                                continue;
                            }

                            throw SegmentErrors.Corrupted(_view.Name, problem);
                        }

                        _view.ThrowIfUnusable();
                        return before >> 1;
                    }
                }

                spinner.SpinOnce();
            }

            // Writers kept moving, or one is mid-write (or died mid-write): read under the lock, after any
            // write in progress on this same handle from another thread.
            if (_view.Mapping.IsReadOnly)
            {
                // A read-only handle cannot record itself as the lock's owner; it only holds the file lock.
                _lock.AcquireFileLockOnly(lockTimeout, cancellationToken);
                try
                {
                    lock (_writeGate)
                    {
                        return ReadUnderLock(ref lease, ref reader);
                    }
                }
                finally
                {
                    _view.Mapping.Unlock();
                }
            }

            _lock.Acquire(lockTimeout, cancellationToken);
            try
            {
                lock (_writeGate)
                {
                    return ReadUnderLock(ref lease, ref reader);
                }
            }
            finally
            {
                _lock.Release(checkFile: false);
            }
        }

        /// <summary>Moves the lease to the handle's current region, mapping the file again if it grew.</summary>
        private MappedRegion MoveToCurrentRegion(ref SegmentView.Lease lease)
        {
            _view.MoveToCurrentRegion(ref lease);
            return lease.Region;
        }

        /// <summary>
        /// Blocks until the version differs from <paramref name="sinceVersion"/>; returns the new one. The
        /// caller holds a lease. Sleeps on ChangeWord in slices, so a lost wake-up costs latency, not a hang.
        /// </summary>
        public long WaitForChange(long sinceVersion, TimeSpan timeout, CancellationToken cancellationToken) =>
            WaitForVersion(sinceVersion, newerOnly: false, timeout, cancellationToken);

        /// <summary>
        /// Blocks until the version differs from <paramref name="version"/> (or, with <paramref name="newerOnly"/>,
        /// exceeds it); returns the version then. The caller holds a lease.
        /// </summary>
        public long WaitForVersion(long version, bool newerOnly, TimeSpan timeout, CancellationToken cancellationToken)
        {
            long sinceVersion = version;
            Deadline deadline = Deadline.After(timeout);
            WaitWord changes = _view.ChangeWord;
            using CancellationTokenRegistration registration = cancellationToken.CanBeCanceled
                ? cancellationToken.Register(() => _lock.WakeOnCancel(changes))
                : default;
            // A sleeper stays counted until the next turn has checked the file, so waking costs one check.
            bool counted = false;
            bool spin = IsHot();
            try
            {
                while (true)
                {
                    _view.CheckIntact();
                    if (counted)
                    {
                        counted = false;
                        changes.UncountWaiterChecked();
                    }

                    _view.ThrowIfUnusable();
                    cancellationToken.ThrowIfCancellationRequested();
                    if (ChangedSince(sinceVersion, newerOnly, out long current))
                    {
                        Volatile.Write(ref _lastWaitEnd, System.Diagnostics.Stopwatch.GetTimestamp());
                        return current;
                    }

                    int remaining = deadline.RemainingMilliseconds;
                    if (remaining == 0)
                    {
                        throw SegmentErrors.WaitTimeout(_view.Name, timeout);
                    }

                    if (spin)
                    {
                        // A reply often comes within a few tens of microseconds (another process answering
                        // this one): look for it before the first sleep, whose wake-up costs far more.
                        spin = false;
                        if (SpinFor(sinceVersion, newerOnly, cancellationToken))
                        {
                            continue;
                        }
                    }

                    // Counted before the last look, so a change between the look and the sleep wakes it.
                    int observed = changes.Observe();
                    counted = changes.CountWaiter();
                    if (!ChangedSince(sinceVersion, newerOnly, out _) && !_view.Header.IsRemoved && !cancellationToken.IsCancellationRequested)
                    {
                        changes.SleepCounted(observed, Math.Min(remaining, ChangeWaitSliceMilliseconds), counted);
                    }
                }
            }
            finally
            {
                if (counted)
                {
                    changes.UncountWaiter();
                }
            }
        }

        /// <summary>
        /// Whether this handle's last wait ended within <see cref="HotGapTicks"/>. A caller that paces itself
        /// (a script that sleeps between messages) sleeps at once: a spin would only keep a processor from the
        /// process that is about to answer, which on a machine of few processors may be waiting for it.
        /// </summary>
        private bool IsHot() => ShouldSpin(Volatile.Read(ref _lastWaitEnd), System.Diagnostics.Stopwatch.GetTimestamp(), Environment.ProcessorCount);

        /// <summary>
        /// The spin rule: more than one processor, and a last wait (Stopwatch ticks, 0 for none) that ended
        /// less than <see cref="HotGapTicks"/> before <paramref name="now"/>.
        /// </summary>
        internal static bool ShouldSpin(long lastWaitEnd, long now, int processorCount) =>
            processorCount > 1 && lastWaitEnd != 0 && now - lastWaitEnd < HotGapTicks;

        /// <summary>
        /// Looks for a change, a removal or a cancellation for up to <see cref="SpinTicks"/>, without sleeping.
        /// True when one came.
        /// </summary>
        private bool SpinFor(long sinceVersion, bool newerOnly, CancellationToken cancellationToken)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            int turn = 0;
            do
            {
                // Now and then give the processor to whatever else is ready on it: perhaps the writer.
                if (++turn % 4 == 0)
                {
                    Thread.Yield();
                }
                else
                {
                    Thread.SpinWait(SpinIterations);
                }

                if (ChangedSince(sinceVersion, newerOnly, out _) || _view.Header.IsRemoved || cancellationToken.IsCancellationRequested)
                {
                    return true;
                }
            }
            while (System.Diagnostics.Stopwatch.GetTimestamp() - start < SpinTicks);
            return false;
        }

        private bool ChangedSince(long sinceVersion, bool newerOnly, out long version)
        {
            long raw = Volatile.Read(ref _view.Header.Sequence);
            version = raw >> 1;
            return (raw & 1) == 0 && (newerOnly ? version > sinceVersion : version != sinceVersion);
        }

        private long ReadUnderLock<TReader>(ref SegmentView.Lease lease, ref TReader reader)
            where TReader : struct, IPayloadReader
        {
            _view.CheckIntact();
            _view.ThrowIfUnusable();
            SegmentHeader header = _view.Header;
            long current = Volatile.Read(ref header.Sequence);
            if ((current & 1) != 0)
            {
                throw SegmentErrors.InterruptedWrite(_view.Name);
            }

            MappedRegion region = lease.Region;
            if (_view.IsGrowable && _view.Size > region.Size)
            {
                region = MoveToCurrentRegion(ref lease);
            }

            long length = header.PayloadLength;
            uint type = header.ContentType;
            string? problem = SegmentHeader.PayloadProblem(length, type, Math.Min(region.Size, _view.Size));
            if (problem is not null)
            {
                throw SegmentErrors.Corrupted(_view.Name, problem);
            }

            reader.ReadFrom(region.Payload, length, (SharedMemoryContentType)type);
            return current >> 1;
        }
    }
}
