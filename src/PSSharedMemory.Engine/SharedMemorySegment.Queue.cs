using System;
using System.Collections.Generic;
using System.Threading;

namespace PSSharedMemory.Engine
{
    /// <summary>The public face's queue operations: every one ends in <see cref="QueueChannel"/>.</summary>
    public sealed unsafe partial class SharedMemorySegment
    {
        /// <summary>What the segment holds: one value, or a queue of messages.</summary>
        public SharedMemorySegmentKind Kind => _view.IsQueue ? SharedMemorySegmentKind.Queue : SharedMemorySegmentKind.Value;

        /// <summary>
        /// The largest message a queue takes: its size less the 16-byte record header. 0 for a value segment.
        /// </summary>
        public long MaxMessageLength => _view.IsQueue ? Size - SegmentLayout.RecordHeaderSize : 0;

        /// <summary>A queue's messages now (a moment's count; others may send and receive meanwhile).</summary>
        public long MessageCount
        {
            get
            {
                RequireKind(SharedMemorySegmentKind.Queue, "counted as a queue");
                using SegmentView.Lease lease = _view.Enter();
                return _queue.Measure(lease.Region).Count;
            }
        }

        /// <summary>
        /// Sends <paramref name="count"/> bytes of <paramref name="payload"/> from <paramref name="offset"/> as one
        /// message, waiting up to <paramref name="timeout"/> for room when the queue is full (then QueueFull;
        /// nothing is sent; the lock itself is waited for up to <see cref="DefaultLockTimeout"/>). Returns the
        /// message's version: the number of messages sent to the queue so far.
        /// A message longer than <see cref="MaxMessageLength"/> fails with PayloadTooLarge.
        /// </summary>
        public long Send(byte[] payload, int offset, int count, SharedMemoryContentType contentType, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (payload is null)
            {
                throw new ArgumentNullException(nameof(payload));
            }

            if (offset < 0 || count < 0 || offset > payload.Length - count)
            {
                throw new ArgumentOutOfRangeException(nameof(count), "offset and count must lie within the payload array.");
            }

            CheckMessageType(contentType);
            RequireKind(SharedMemorySegmentKind.Queue, "sent to");
            CheckMessageFits(count);
            fixed (byte* source = payload)
            {
                var copier = new CopyFrom { Source = source + offset, Count = count };
                SegmentView.Lease lease = _view.Enter();
                try
                {
                    return _queue.Send(ref lease, contentType, timeout, cancellationToken, ref copier);
                }
                finally
                {
                    lease.Dispose();
                }
            }
        }

        /// <summary>Sends a byte array as one Bytes message, waiting up to 30 seconds for room.</summary>
        public long Send(byte[] payload) => Send(payload, 0, payload?.Length ?? 0, SharedMemoryContentType.Bytes, DefaultLockTimeout, CancellationToken.None);

        /// <summary>
        /// Sends a string, encoded as UTF-8, as one message labelled <paramref name="contentType"/> (Text, or
        /// CliXml for serialized objects). Otherwise as <see cref="Send(byte[], int, int, SharedMemoryContentType, TimeSpan, CancellationToken)"/>.
        /// </summary>
        public long SendText(string text, SharedMemoryContentType contentType, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (text is null)
            {
                throw new ArgumentNullException(nameof(text));
            }

            CheckMessageType(contentType);
            RequireKind(SharedMemorySegmentKind.Queue, "sent to");
            long counted = -1;
            if ((long)text.Length * 3 > MaxMessageLength)
            {
                counted = SharedMemoryContent.Utf8.GetByteCount(text);
                CheckMessageFits(counted);
            }

            fixed (char* chars = text)
            {
                var encoder = new EncodeFrom { Chars = chars, Count = text.Length, Counted = counted };
                SegmentView.Lease lease = _view.Enter();
                try
                {
                    return _queue.Send(ref lease, contentType, timeout, cancellationToken, ref encoder);
                }
                finally
                {
                    lease.Dispose();
                }
            }
        }

        /// <summary>Sends a string as one Text message, waiting up to 30 seconds for room.</summary>
        public long SendText(string text) => SendText(text, SharedMemoryContentType.Text, DefaultLockTimeout, CancellationToken.None);

        /// <summary>
        /// Takes up to <paramref name="max"/> messages from the queue, oldest first, in one step: no other
        /// receiver gets any of them. With the queue empty, waits up to <paramref name="timeout"/> for a message
        /// (<see cref="TimeSpan.Zero"/>: not at all) and returns an empty list if none came. Each message's
        /// <see cref="SharedMemoryContent.Version"/> is the version its send returned. The queue's lock, which
        /// others hold only for the moment of one send or receive, is waited for up to
        /// <see cref="DefaultLockTimeout"/> whatever <paramref name="timeout"/> says.
        /// </summary>
        public IReadOnlyList<SharedMemoryContent> Receive(int max, TimeSpan timeout, CancellationToken cancellationToken) =>
            ReceiveOrPeek(max, peek: false, timeout, cancellationToken);

        /// <summary>Takes the oldest message, if there is one, without waiting.</summary>
        public bool TryReceive(out SharedMemoryContent? message)
        {
            IReadOnlyList<SharedMemoryContent> messages = Receive(1, TimeSpan.Zero, CancellationToken.None);
            message = messages.Count == 0 ? null : messages[0];
            return message is not null;
        }

        /// <summary>
        /// Copies up to <paramref name="max"/> of the oldest messages without taking them; others may take them
        /// next. Waits as <see cref="Receive"/> does when the queue is empty.
        /// </summary>
        public IReadOnlyList<SharedMemoryContent> Peek(int max, TimeSpan timeout, CancellationToken cancellationToken) =>
            ReceiveOrPeek(max, peek: true, timeout, cancellationToken);

        private IReadOnlyList<SharedMemoryContent> ReceiveOrPeek(int max, bool peek, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (max < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(max), max, "Take at least one message.");
            }

            RequireKind(SharedMemorySegmentKind.Queue, peek ? "peeked at" : "received from");
            SegmentView.Lease lease = _view.Enter();
            try
            {
                return _queue.Receive(ref lease, max, peek, timeout, cancellationToken);
            }
            finally
            {
                lease.Dispose();
            }
        }

        private void RequireKind(SharedMemorySegmentKind kind, string action)
        {
            if (Kind != kind)
            {
                throw SegmentErrors.WrongKind(Name, Kind, action);
            }
        }

        private void CheckMessageFits(long length)
        {
            if (QueueChannel.RecordSize(length) > Size)
            {
                throw SegmentErrors.PayloadTooLarge(Name, length, MaxMessageLength);
            }
        }

        private static void CheckMessageType(SharedMemoryContentType contentType)
        {
            if (contentType == SharedMemoryContentType.Empty || (uint)contentType > SegmentLayout.MaxContentType)
            {
                throw new ArgumentOutOfRangeException(nameof(contentType), contentType, "A message is Text, Bytes or CliXml.");
            }
        }
    }
}
