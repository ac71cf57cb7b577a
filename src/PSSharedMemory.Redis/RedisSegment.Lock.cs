using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using PSSharedMemory.Engine;
using StackExchange.Redis;

namespace PSSharedMemory.Redis
{
    /// <content>The lock: a lease taken, renewed while held, released by compare-and-delete, and noticed when lost.</content>
    internal sealed partial class RedisSegment
    {
        public IDisposable Lock(TimeSpan timeout, CancellationToken cancellationToken)
        {
            RedisSharedMemoryStore.CheckTimeout(timeout);
            lock (_lockGate)
            {
                Enter();
                if (_depth > 0)
                {
                    _depth++;
                    return new Release(this);
                }
            }

            string token = Guid.NewGuid().ToString("N");
            string value = token + "|" + RedisSharedMemoryStore.HostName + "|" + RedisSharedMemoryStore.ProcessId.ToString(CultureInfo.InvariantCulture);
            long lease = (long)Owner.LockLease.TotalMilliseconds;
            Deadline deadline = Deadline.After(timeout);
            RedisWatch? watch = null;
            try
            {
                while (true)
                {
                    watch?.Reset();
                    RedisResult result = Owner.Call(Name, () => Owner.Db.ScriptEvaluate(RedisScripts.Lock, Keys.All, new RedisValue[] { value, lease, _id }));
                    if (result.Resp2Type == ResultType.Integer)
                    {
                        if ((long)result == 0)
                        {
                            throw Gone();
                        }

                        lock (_lockGate)
                        {
                            _lockValue = value;
                            _lockToken = token;
                            _lost = false;
                            _depth = 1;
                            TimeSpan every = TimeSpan.FromMilliseconds(Math.Max(50, lease / 3));
                            _renewal = new Timer(_ => Renew(), null, every, every);
                        }

                        return new Release(this);
                    }

                    if (deadline.HasPassed)
                    {
                        throw LockTimeout(timeout, (string?)result);
                    }

                    SubscribeOrWait(ref watch, deadline, cancellationToken);
                }
            }
            finally
            {
                watch?.Dispose();
            }
        }

        public void Unlock()
        {
            string value;
            bool lost;
            lock (_lockGate)
            {
                if (_depth == 0)
                {
                    throw SegmentErrors.NotLocked(Name);
                }

                lost = _lost;
                if (!lost && --_depth > 0)
                {
                    return;
                }

                value = _lockValue;
                ClearLock();
            }

            if (lost)
            {
                throw LockLost();
            }

            RedisResult result = Owner.Call(Name, () => Owner.Db.ScriptEvaluate(RedisScripts.Unlock, Keys.All, new RedisValue[] { value, Keys.Channel.ToString() }));
            if ((long)result == 0)
            {
                throw LockLost();
            }
        }

        public int TakeAbandonedLockReport() => 0;

        /// <summary>After a look at the lock's value: fails with LockLost when this handle holds the lock and it is not its value.</summary>
        private void CheckStillHeld(string lockValue)
        {
            if (_depth > 0 && !string.Equals(lockValue, _lockValue, StringComparison.Ordinal))
            {
                _lost = true;
                throw LockLost();
            }
        }

        private string HeldToken => _depth > 0 ? _lockToken : string.Empty;

        private void Renew()
        {
            string value;
            lock (_lockGate)
            {
                if (_depth == 0 || _lost || _disposed)
                {
                    return;
                }

                value = _lockValue;
            }

            try
            {
                RedisResult result = Owner.Db.ScriptEvaluate(RedisScripts.Renew, Keys.All, new RedisValue[] { value, (long)Owner.LockLease.TotalMilliseconds });
                if ((long)result == 0)
                {
                    lock (_lockGate)
                    {
                        if (_lockValue == value)
                        {
                            _lost = true;
                            _renewal?.Dispose();
                            _renewal = null;
                        }
                    }
                }
            }
            catch (Exception e) when (e is RedisException || e is TimeoutException || e is ObjectDisposedException)
            {
                // Unanswered: the next renewal tries again; if the lease ends first, that one finds it lost.
            }
        }

        private void ClearLock()
        {
            _renewal?.Dispose();
            _renewal = null;
            _depth = 0;
            _lost = false;
            _lockValue = string.Empty;
            _lockToken = string.Empty;
        }

        /// <summary>
        /// In a loop that tries a script until it succeeds: the first time, subscribes to the segment's channel
        /// and returns, so the caller tries again at once and a notice between the two tries is not missed;
        /// after that, waits for a notice, a poll slice, or <paramref name="until"/>.
        /// </summary>
        private void SubscribeOrWait(ref RedisWatch? watch, Deadline until, CancellationToken cancellationToken)
        {
            if (watch is null)
            {
                watch = new RedisWatch(Owner, new[] { Keys.Channel });
                return;
            }

            watch.Wait(until, cancellationToken);
        }

        private SharedMemoryException LockLost() =>
            new SharedMemoryException(SharedMemoryErrorCode.LockLost, Name,
                $"The lock of segment '{Name}' was lost while this session held it: its lease of {Deadline.Describe(Owner.LockLease)} ended before it was renewed (the holder was paused, or cut off from the Redis server), so another session may have taken it. This command was not made under the lock.");

        /// <summary>LockTimeout naming the holder that <paramref name="lockValue"/> (the lock key's value, "token|host|pid") records.</summary>
        private SharedMemoryException LockTimeout(TimeSpan timeout, string? lockValue)
        {
            RedisLock.Parse(lockValue ?? string.Empty, out _, out string host, out int pid);
            string holder = pid > 0 ? $"process {pid.ToString(CultureInfo.InvariantCulture)} on {host}" : "another session";
            return new SharedMemoryException(SharedMemoryErrorCode.LockTimeout, Name,
                $"The lock of segment '{Name}' is held by {holder} and was not released within {Deadline.Describe(timeout)}.")
            {
                LockHolderProcessId = pid,
            };
        }

        private sealed class Release : IDisposable
        {
            private RedisSegment? _segment;

            public Release(RedisSegment segment) => _segment = segment;

            public void Dispose() => Interlocked.Exchange(ref _segment, null)?.Unlock();
        }
    }

    /// <summary>The value of a lock key: "token|host|pid".</summary>
    internal static class RedisLock
    {
        public static void Parse(string value, out string token, out string host, out int pid)
        {
            string[] parts = value.Split('|');
            token = parts.Length > 0 ? parts[0] : string.Empty;
            host = parts.Length > 1 ? parts[1] : string.Empty;
            pid = parts.Length > 2 && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int id) ? id : 0;
        }
    }
}
