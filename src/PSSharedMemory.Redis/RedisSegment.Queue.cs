using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using PSSharedMemory.Engine;
using StackExchange.Redis;

namespace PSSharedMemory.Redis
{
    /// <content>The queue: messages sent to and taken from the segment's list, each by one script.</content>
    internal sealed partial class RedisSegment
    {
        public long Send(byte[] payload, int offset, int count, SharedMemoryContentType contentType, TimeSpan timeout, CancellationToken cancellationToken) =>
            SendBytes(Slice(payload, offset, count), contentType, timeout, cancellationToken);

        public long SendText(string text, SharedMemoryContentType contentType, TimeSpan timeout, CancellationToken cancellationToken) =>
            SendBytes(Encode(text), contentType, timeout, cancellationToken);

        public IReadOnlyList<SharedMemoryContent> Receive(int max, TimeSpan timeout, CancellationToken cancellationToken) =>
            Take(max, peek: false, timeout, cancellationToken);

        public IReadOnlyList<SharedMemoryContent> Peek(int max, TimeSpan timeout, CancellationToken cancellationToken) =>
            Take(max, peek: true, timeout, cancellationToken);

        private long SendBytes(byte[] data, SharedMemoryContentType contentType, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (contentType == SharedMemoryContentType.Empty || (uint)contentType > (uint)SharedMemoryContentType.CliXml)
            {
                throw new ArgumentOutOfRangeException(nameof(contentType), contentType, "A message is Text, Bytes or CliXml.");
            }

            if (Kind != SharedMemorySegmentKind.Queue)
            {
                throw SegmentErrors.WrongKind(Name, Kind, "sent to");
            }

            long maxMessage = _max - 16;
            if (data.LongLength > maxMessage)
            {
                throw SegmentErrors.PayloadTooLarge(Name, data.LongLength, maxMessage);
            }

            RedisSharedMemoryStore.CheckTimeout(timeout);
            Deadline deadline = Deadline.After(timeout);
            Deadline lockDeadline = Deadline.After(SharedMemorySegment.DefaultLockTimeout);
            RedisWatch? watch = null;
            try
            {
                while (true)
                {
                    Enter();
                    watch?.Reset();
                    RedisResult[] r = (RedisResult[])Owner.Call(Name, () => Owner.Db.ScriptEvaluate(RedisScripts.Send, Keys.All, new RedisValue[]
                    {
                        _id, data, (int)contentType, RedisSharedMemoryStore.ProcessId, RedisSharedMemoryStore.HostName,
                        RedisSharedMemoryStore.NowUnixMs(), HeldToken, Keys.Channel.ToString(),
                    }))!;
                    Deadline waitUntil = deadline;
                    switch ((string?)r[0])
                    {
                        case "ok":
                            return (long)r[1];
                        case "removed":
                            throw Gone();
                        case "kind":
                            throw SegmentErrors.WrongKind(Name, SharedMemorySegmentKind.Value, "sent to");
                        case "lost":
                            _lost = true;
                            throw LockLost();
                        case "full":
                            if (deadline.HasPassed)
                            {
                                throw SegmentErrors.QueueFull(Name, 16 + ((data.LongLength + 7) & ~7L), (long)r[1], timeout);
                            }

                            break;
                        case "locked":
                            if (lockDeadline.HasPassed)
                            {
                                throw LockTimeout(SharedMemorySegment.DefaultLockTimeout, (string?)r[1]);
                            }

                            waitUntil = lockDeadline;
                            break;
                        default:
                            throw new InvalidOperationException("Unexpected answer from the send script: " + (string?)r[0]);
                    }

                    SubscribeOrWait(ref watch, waitUntil, cancellationToken);
                }
            }
            finally
            {
                watch?.Dispose();
            }
        }

        private IReadOnlyList<SharedMemoryContent> Take(int max, bool peek, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (max < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(max), max, "Take at least one message.");
            }

            if (Kind != SharedMemorySegmentKind.Queue)
            {
                throw SegmentErrors.WrongKind(Name, Kind, peek ? "peeked at" : "received from");
            }

            RedisSharedMemoryStore.CheckTimeout(timeout);
            Deadline deadline = Deadline.After(timeout);
            Deadline lockDeadline = Deadline.After(SharedMemorySegment.DefaultLockTimeout);
            RedisWatch? watch = null;
            try
            {
                while (true)
                {
                    Enter();
                    watch?.Reset();
                    RedisResult[] r = (RedisResult[])Owner.Call(Name, () => Owner.Db.ScriptEvaluate(RedisScripts.Receive, Keys.All, new RedisValue[]
                    {
                        _id, max, peek ? 1 : 0, HeldToken, Keys.Channel.ToString(),
                    }))!;
                    Deadline waitUntil = deadline;
                    switch ((string?)r[0])
                    {
                        case "ok":
                            if (r.Length > 1 || deadline.HasPassed)
                            {
                                return Messages(r);
                            }

                            break;
                        case "removed":
                            throw Gone();
                        case "kind":
                            throw SegmentErrors.WrongKind(Name, SharedMemorySegmentKind.Value, peek ? "peeked at" : "received from");
                        case "lost":
                            _lost = true;
                            throw LockLost();
                        case "locked":
                            if (lockDeadline.HasPassed)
                            {
                                throw LockTimeout(SharedMemorySegment.DefaultLockTimeout, (string?)r[1]);
                            }

                            waitUntil = lockDeadline;
                            break;
                        default:
                            throw new InvalidOperationException("Unexpected answer from the receive script: " + (string?)r[0]);
                    }

                    SubscribeOrWait(ref watch, waitUntil, cancellationToken);
                }
            }
            finally
            {
                watch?.Dispose();
            }
        }

        private static IReadOnlyList<SharedMemoryContent> Messages(RedisResult[] r)
        {
            var messages = new List<SharedMemoryContent>(r.Length - 1);
            for (int i = 1; i < r.Length; i++)
            {
                byte[] record = (byte[])r[i]!;
                int first = Array.IndexOf(record, (byte)':');
                int second = Array.IndexOf(record, (byte)':', first + 1);
                var type = (SharedMemoryContentType)int.Parse(System.Text.Encoding.ASCII.GetString(record, 0, first), CultureInfo.InvariantCulture);
                long version = long.Parse(System.Text.Encoding.ASCII.GetString(record, first + 1, second - first - 1), CultureInfo.InvariantCulture);
                byte[] data = new byte[record.Length - second - 1];
                Buffer.BlockCopy(record, second + 1, data, 0, data.Length);
                messages.Add(new SharedMemoryContent(data, type, version));
            }

            return messages;
        }
    }
}
