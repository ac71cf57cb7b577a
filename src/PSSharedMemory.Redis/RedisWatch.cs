using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using PSSharedMemory.Engine;
using StackExchange.Redis;

namespace PSSharedMemory.Redis
{
    /// <summary>
    /// A subscription to the notice channels of some segments, taken before a wait looks at them, so no notice
    /// sent after the look is missed. A wait also looks again every <see cref="RedisSharedMemoryStore.PollInterval"/>
    /// (a notice sent while the connection was down is lost), and goes on through an outage of the server until
    /// <see cref="RedisSharedMemoryStore.UnavailableTimeout"/> has passed without an answer.
    /// </summary>
    internal sealed class RedisWatch : IDisposable
    {
        private readonly RedisSharedMemoryStore _store;
        private readonly List<RedisChannel> _channels = new List<RedisChannel>();
        private readonly ManualResetEventSlim _notice = new ManualResetEventSlim(false);
        private readonly Action<RedisChannel, RedisValue> _handler;
        private long _downSince;

        public RedisWatch(RedisSharedMemoryStore store, IEnumerable<RedisChannel> channels)
        {
            _store = store;
            _handler = (_, _) => _notice.Set();
            try
            {
                foreach (RedisChannel channel in channels)
                {
                    store.Call<int>(null, () =>
                    {
                        store.Subscriber.Subscribe(channel, _handler);
                        return 0;
                    });
                    _channels.Add(channel);
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        /// <summary>Forgets the notices so far; call before looking.</summary>
        public void Reset() => _notice.Reset();

        /// <summary>Sleeps until a notice, the next look, the deadline or cancellation.</summary>
        public void Wait(Deadline deadline, CancellationToken cancellationToken)
        {
            TimeSpan slice = RedisSharedMemoryStore.PollInterval;
            if (!deadline.IsInfinite && deadline.Remaining < slice)
            {
                slice = deadline.Remaining;
            }

            WaitHandle.WaitAny(new[] { _notice.WaitHandle, cancellationToken.WaitHandle }, slice);
            cancellationToken.ThrowIfCancellationRequested();
        }

        /// <summary>
        /// Runs one look at the server: true with its answer, or false while the server has not answered for less
        /// than the store's UnavailableTimeout (the wait goes on); after that the StoreUnavailable error is thrown.
        /// </summary>
        public bool TryLook<T>(Func<T> look, out T value)
        {
            long started = Stopwatch.GetTimestamp();
            try
            {
                value = look();
                _downSince = 0;
                return true;
            }
            catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.StoreUnavailable)
            {
                if (_downSince == 0)
                {
                    _downSince = started;
                }

                TimeSpan down = Stopwatch.GetElapsedTime(_downSince);
                if (down >= _store.UnavailableTimeout)
                {
                    throw RedisSharedMemoryStore.Unavailable(_store.Location, down, e.InnerException ?? e, e.SegmentName);
                }

                value = default!;
                return false;
            }
        }

        public void Dispose()
        {
            foreach (RedisChannel channel in _channels)
            {
                try
                {
                    _store.Subscriber.Unsubscribe(channel, _handler, CommandFlags.FireAndForget);
                }
                catch (Exception e) when (e is RedisException || e is TimeoutException || e is ObjectDisposedException)
                {
                    // The connection is gone; so is the subscription.
                }
            }

            _channels.Clear();
            _notice.Dispose();
        }
    }
}
