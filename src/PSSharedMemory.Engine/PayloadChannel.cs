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
        private static readonly int s_processId = Process.GetCurrentProcess().Id;

        private readonly SegmentView _view;
        private readonly SegmentLock _lock;

        // Orders a write and a locked read of this same handle on two threads, which share the lock.
        private readonly object _writeGate = new object();

        public PayloadChannel(SegmentView view, SegmentLock segmentLock)
        {
            _view = view;
            _lock = segmentLock;
        }

        /// <summary>Writes a payload that the caller checked fits; returns the new version. The caller holds a lease.</summary>
        public long Write<TWriter>(SharedMemoryContentType contentType, TimeSpan lockTimeout, CancellationToken cancellationToken, ref TWriter writer)
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

                    // Odd: a write in progress. After an interrupted write it is already odd; keep it odd and rising.
                    long writing = (before & 1) == 0 ? before + 1 : before + 2;
                    Volatile.Write(ref sequence, writing);
                    Interlocked.MemoryBarrier();

                    long written = writer.WriteTo(header.Payload, _view.Size);
                    header.PayloadLength = written;
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

        /// <summary>Reads a consistent copy; returns its version. The caller holds a lease.</summary>
        public long Read<TReader>(TimeSpan lockTimeout, CancellationToken cancellationToken, ref TReader reader)
            where TReader : struct, IPayloadReader
        {
            _view.ThrowIfUnusable();
            SegmentHeader header = _view.Header;

            // Another process may have damaged the header since it was opened; a few loads catch that.
            if (!header.LooksIntact(_view.Size) && header.Validate(_view.Size) is string damage)
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
                    string? problem = SegmentHeader.PayloadProblem(length, type, _view.Size);
                    if (problem is null)
                    {
                        reader.ReadFrom(header.Payload, length, (SharedMemoryContentType)type);
                    }

                    Interlocked.MemoryBarrier();
                    if (Volatile.Read(ref sequence) == before)
                    {
                        if (problem is not null)
                        {
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
                        return ReadUnderLock(ref reader);
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
                    return ReadUnderLock(ref reader);
                }
            }
            finally
            {
                _lock.Release(checkFile: false);
            }
        }

        /// <summary>
        /// Blocks until the version differs from <paramref name="sinceVersion"/>; returns the new one. The
        /// caller holds a lease. Sleeps on ChangeWord in slices, so a lost wake-up costs latency, not a hang.
        /// </summary>
        public long WaitForChange(long sinceVersion, TimeSpan timeout, CancellationToken cancellationToken)
        {
            Deadline deadline = Deadline.After(timeout);
            WaitWord changes = _view.ChangeWord;
            using CancellationTokenRegistration registration = cancellationToken.CanBeCanceled
                ? cancellationToken.Register(() => _lock.WakeOnCancel(changes))
                : default;
            while (true)
            {
                _view.CheckIntact();
                _view.ThrowIfUnusable();
                cancellationToken.ThrowIfCancellationRequested();
                if (ChangedSince(sinceVersion, out long version))
                {
                    return version;
                }

                int remaining = deadline.RemainingMilliseconds;
                if (remaining == 0)
                {
                    throw SegmentErrors.WaitTimeout(_view.Name, timeout);
                }

                int observed = changes.Observe();
                changes.Sleep(observed, Math.Min(remaining, ChangeWaitSliceMilliseconds),
                    () => ChangedSince(sinceVersion, out _) || _view.Header.IsRemoved || cancellationToken.IsCancellationRequested);
            }
        }

        private bool ChangedSince(long sinceVersion, out long version)
        {
            long raw = Volatile.Read(ref _view.Header.Sequence);
            version = raw >> 1;
            return (raw & 1) == 0 && version != sinceVersion;
        }

        private long ReadUnderLock<TReader>(ref TReader reader)
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

            long length = header.PayloadLength;
            uint type = header.ContentType;
            string? problem = SegmentHeader.PayloadProblem(length, type, _view.Size);
            if (problem is not null)
            {
                throw SegmentErrors.Corrupted(_view.Name, problem);
            }

            reader.ReadFrom(header.Payload, length, (SharedMemoryContentType)type);
            return current >> 1;
        }
    }
}
