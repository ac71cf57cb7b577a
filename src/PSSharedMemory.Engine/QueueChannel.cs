using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// The send and receive protocol of a queue (layout version 3; docs/segment-format.md, "Queues"). The
    /// payload area is a ring of records between two positions that only rise, <c>Head</c> (the oldest
    /// message) and <c>Tail</c> (after the newest); a position's place in the ring is the position modulo the
    /// ring's size.
    /// </summary>
    /// <remarks>
    /// Every send and receive runs under the segment's cross-process lock, the same kernel-released file lock
    /// values use. A lock-free ring for many producers and many consumers across processes would need a way to
    /// tell a slot half-written by a process that died from one being written slowly; under the lock that
    /// question never arises, because each operation commits with one aligned 8-byte store: a send writes its
    /// record past <c>Tail</c> and then advances <c>Tail</c>; a receive copies the record at <c>Head</c> and then
    /// advances <c>Head</c>. A process killed before its store changed nothing visible (a sender's message is
    /// lost, a receiver's message stays for the next receiver); one killed after it completed its operation.
    /// Nothing else in the header needs repair, so a crash never corrupts the queue or leaves it stuck. The
    /// lock costs two system calls per operation, which batches (several messages per lock) amortise.
    /// </remarks>
    internal sealed unsafe class QueueChannel
    {
        private const int WaitSliceMilliseconds = 200;
        private const int SpinsBeforeSleep = 20;
        private static readonly int s_processId = Process.GetCurrentProcess().Id;

        private readonly SegmentView _view;
        private readonly SegmentLock _lock;

        public QueueChannel(SegmentView view, SegmentLock segmentLock)
        {
            _view = view;
            _lock = segmentLock;
        }

        private long RingSize => _view.Size;

        /// <summary>The bytes a record of <paramref name="length"/> payload bytes takes in the ring.</summary>
        public static long RecordSize(long length) =>
            SegmentLayout.RecordHeaderSize + ((length + SegmentLayout.RecordAlignment - 1) & ~(long)(SegmentLayout.RecordAlignment - 1));

        /// <summary>
        /// Sends one message, waiting up to <paramref name="timeout"/> for room; returns its version (the
        /// number of messages sent to the queue, this one included). The caller holds a lease and checked
        /// that the record fits an empty ring.
        /// </summary>
        public long Send<TWriter>(ref SegmentView.Lease lease, SharedMemoryContentType contentType, TimeSpan timeout, CancellationToken cancellationToken, ref TWriter writer)
            where TWriter : struct, IPayloadWriter
        {
            long length = writer.ByteCount;
            long record = RecordSize(length);
            Deadline deadline = Deadline.After(timeout);
            while (true)
            {
                int observedSpace;
                _lock.Acquire(SharedMemorySegment.DefaultLockTimeout, cancellationToken);
                try
                {
                    _view.ThrowIfUnusable();
                    SegmentHeader header = _view.Header;
                    long head = Volatile.Read(ref header.Head);
                    long tail = Volatile.Read(ref header.Tail);
                    CheckPositions(head, tail);
                    if (tail - head + record <= RingSize)
                    {
                        return Append(lease.Region, header, tail, length, record, contentType, ref writer);
                    }

                    // Full: sleep until a receive bumps the space word. Observed under the lock, so a receive
                    // after this release is not missed.
                    observedSpace = Volatile.Read(ref *header.SpaceWord);
                }
                finally
                {
                    _lock.Release(checkFile: false);
                }

                WaitForRoom(observedSpace, record, deadline, timeout, cancellationToken);
            }
        }

        private long Append<TWriter>(MappedRegion region, SegmentHeader header, long tail, long length, long record, SharedMemoryContentType contentType, ref TWriter writer)
            where TWriter : struct, IPayloadWriter
        {
            ref long sequence = ref header.Sequence;
            long before = Volatile.Read(ref sequence);

            // Odd while the send runs, as for a value write; after a sender died mid-send it is already odd.
            long writing = (before & 1) == 0 ? before + 1 : before + 2;
            long version = (writing + 1) >> 1;
            Volatile.Write(ref sequence, writing);

            long at = tail % RingSize;
            RecordHeader fields;
            fields.Length = (uint)length;
            fields.ContentType = (uint)contentType;
            fields.Version = version;
            CopyIn(region, at, (byte*)&fields, SegmentLayout.RecordHeaderSize);
            long payloadAt = (at + SegmentLayout.RecordHeaderSize) % RingSize;
            if (payloadAt + length <= RingSize)
            {
                writer.WriteTo(region.Payload + payloadAt, length);
            }
            else
            {
                // The message wraps around the end of the ring: encode it aside, then copy it in two parts.
                byte[] staging = new byte[length];
                fixed (byte* buffer = staging)
                {
                    writer.WriteTo(buffer, length);
                    CopyIn(region, payloadAt, buffer, length);
                }
            }

            header.LastWriterPid = s_processId;
            header.LastWriteTime = SegmentHeader.ToUnixNanoseconds(DateTime.UtcNow);

            // The commit: one aligned 8-byte store makes the whole record visible to receivers.
            Volatile.Write(ref header.Tail, tail + record);
            Volatile.Write(ref sequence, writing + 1);
            _view.ChangeWord.Bump();
            return version;
        }

        /// <summary>
        /// Takes up to <paramref name="max"/> messages, oldest first, all under one lock. With nothing queued,
        /// waits up to <paramref name="timeout"/> for a message; returns an empty list if none came.
        /// <paramref name="peek"/> copies them without taking them. The caller holds a lease.
        /// </summary>
        public List<SharedMemoryContent> Receive(ref SegmentView.Lease lease, int max, bool peek, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var messages = new List<SharedMemoryContent>();
            Deadline deadline = Deadline.After(timeout);
            while (true)
            {
                int observedChange;
                _lock.Acquire(SharedMemorySegment.DefaultLockTimeout, cancellationToken);
                try
                {
                    _view.ThrowIfUnusable();
                    SegmentHeader header = _view.Header;
                    long head = Volatile.Read(ref header.Head);
                    long tail = Volatile.Read(ref header.Tail);
                    CheckPositions(head, tail);
                    if (head != tail)
                    {
                        long position = head;
                        while (position != tail && messages.Count < max)
                        {
                            messages.Add(ReadRecord(lease.Region, ref position, tail));
                        }

                        if (!peek)
                        {
                            // The commit: one aligned 8-byte store gives the space back.
                            Volatile.Write(ref header.Head, position);
                            new WaitWord(_view.Mapping, header.SpaceWord).Bump();
                        }

                        return messages;
                    }

                    observedChange = _view.ChangeWord.Observe();
                }
                finally
                {
                    _lock.Release(checkFile: false);
                }

                if (!WaitForMessage(observedChange, deadline, cancellationToken))
                {
                    return messages;
                }
            }
        }

        /// <summary>
        /// The messages queued and the bytes they take, counted without the lock: the walk is kept only if
        /// <c>Head</c> did not move meanwhile (records between Head and Tail never change). The caller holds a lease.
        /// </summary>
        public (long Count, long Bytes) Measure(MappedRegion region)
        {
            SegmentHeader header = _view.Header;
            for (int attempt = 0; ; attempt++)
            {
                long head = Volatile.Read(ref header.Head);
                long tail = Volatile.Read(ref header.Tail);
                string? problem = SegmentHeader.QueueProblem(head, tail, RingSize);
                long count = 0;
                long position = head;
                while (problem is null && position != tail)
                {
                    RecordHeader fields = PeekHeader(region, position);
                    long record = RecordSize(fields.Length);
                    if (fields.Length > RingSize || fields.ContentType == 0 || fields.ContentType > SegmentLayout.MaxContentType || record > tail - position)
                    {
                        problem = $"the message at position {position} has an impossible length ({fields.Length}) or content type ({fields.ContentType})";
                        break;
                    }

                    position += record;
                    count++;
                }

                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref header.Head) == head)
                {
                    if (problem is not null)
                    {
                        throw SegmentErrors.Corrupted(_view.Name, problem);
                    }

                    return (count, tail - head);
                }

                if (attempt > 1000)
                {
                    // Receivers keep moving: count under the lock.
                    _lock.Acquire(SharedMemorySegment.DefaultLockTimeout, CancellationToken.None);
                    try
                    {
                        return Measure(region);
                    }
                    finally
                    {
                        _lock.Release(checkFile: false);
                    }
                }
            }
        }

        private void CheckPositions(long head, long tail)
        {
            if (SegmentHeader.QueueProblem(head, tail, RingSize) is string problem)
            {
                throw SegmentErrors.Corrupted(_view.Name, problem);
            }
        }

        private SharedMemoryContent ReadRecord(MappedRegion region, ref long position, long tail)
        {
            RecordHeader fields = PeekHeader(region, position);
            long record = RecordSize(fields.Length);
            if (fields.Length > RingSize || fields.ContentType == 0 || fields.ContentType > SegmentLayout.MaxContentType || record > tail - position)
            {
                throw SegmentErrors.Corrupted(_view.Name, $"the message at position {position} has an impossible length ({fields.Length}) or content type ({fields.ContentType})");
            }

            byte[] data = new byte[fields.Length];
            fixed (byte* destination = data)
            {
                CopyOut(region, (position + SegmentLayout.RecordHeaderSize) % RingSize, destination, fields.Length);
            }

            position += record;
            return new SharedMemoryContent(data, (SharedMemoryContentType)fields.ContentType, fields.Version);
        }

        private RecordHeader PeekHeader(MappedRegion region, long position)
        {
            RecordHeader fields;
            CopyOut(region, position % RingSize, (byte*)&fields, SegmentLayout.RecordHeaderSize);
            return fields;
        }

        private void CopyIn(MappedRegion region, long at, byte* source, long count)
        {
            long first = Math.Min(count, RingSize - at);
            Buffer.MemoryCopy(source, region.Payload + at, first, first);
            if (first < count)
            {
                Buffer.MemoryCopy(source + first, region.Payload, count - first, count - first);
            }
        }

        private void CopyOut(MappedRegion region, long at, byte* destination, long count)
        {
            long first = Math.Min(count, RingSize - at);
            Buffer.MemoryCopy(region.Payload + at, destination, first, first);
            if (first < count)
            {
                Buffer.MemoryCopy(region.Payload, destination + first, count - first, count - first);
            }
        }

        /// <summary>Sleeps on the change word until a send (or removal, or the deadline); false when time is up.</summary>
        private bool WaitForMessage(int observed, Deadline deadline, CancellationToken cancellationToken)
        {
            SegmentHeader header = _view.Header;

            // A sender that keeps up usually sends again within microseconds: look a little before sleeping,
            // which saves both sides a system call per message.
            return SleepOn(_view.ChangeWord, observed, () => Volatile.Read(ref header.Head) != Volatile.Read(ref header.Tail),
                spinFirst: true, deadline, cancellationToken);
        }

        /// <summary>Sleeps on the space word until a receive frees room; QueueFull when time is up.</summary>
        private void WaitForRoom(int observed, long record, Deadline deadline, TimeSpan timeout, CancellationToken cancellationToken)
        {
            SegmentHeader header = _view.Header;
            if (!SleepOn(new WaitWord(_view.Mapping, header.SpaceWord), observed, () => HasRoom(header, record), spinFirst: false, deadline, cancellationToken))
            {
                long free = RingSize - (Volatile.Read(ref header.Tail) - Volatile.Read(ref header.Head));
                throw SegmentErrors.QueueFull(_view.Name, record, free, timeout);
            }
        }

        /// <summary>
        /// Sleeps in bounded slices until <paramref name="word"/> moves from <paramref name="observed"/> or
        /// <paramref name="ready"/> holds; false when the deadline passes first. Removal and a closed handle
        /// end it with their errors, cancellation with OperationCanceledException.
        /// </summary>
        private bool SleepOn(WaitWord word, int observed, Func<bool> ready, bool spinFirst, Deadline deadline, CancellationToken cancellationToken)
        {
            using CancellationTokenRegistration registration = cancellationToken.CanBeCanceled
                ? cancellationToken.Register(() => _lock.WakeOnCancel(word))
                : default;
            SegmentHeader header = _view.Header;
            bool spin = spinFirst && Environment.ProcessorCount > 1;
            while (true)
            {
                _view.CheckIntact();
                _view.ThrowIfUnusable();
                cancellationToken.ThrowIfCancellationRequested();
                if (word.Observe() != observed || ready())
                {
                    return true;
                }

                int remaining = deadline.RemainingMilliseconds;
                if (remaining == 0)
                {
                    return false;
                }

                for (int i = 0; spin && i < SpinsBeforeSleep; i++)
                {
                    Thread.SpinWait(64);
                    if (word.Observe() != observed || ready())
                    {
                        return true;
                    }
                }

                spin = false;
                word.Sleep(observed, Math.Min(remaining, WaitSliceMilliseconds), () => ready() || header.IsRemoved || cancellationToken.IsCancellationRequested);
            }
        }

        private bool HasRoom(SegmentHeader header, long record) =>
            Volatile.Read(ref header.Tail) - Volatile.Read(ref header.Head) + record <= RingSize;

        /// <summary>The 16 bytes in front of every message in the ring.</summary>
        private struct RecordHeader
        {
            public uint Length;
            public uint ContentType;
            public long Version;
        }
    }
}
