using System;
using System.Threading;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// What a wait for a segment name sleeps on between two looks at the store (see
    /// <see cref="SegmentCatalog.WaitForCreation"/>): the store's own notice that a directory entry appeared
    /// (inotify on Linux, a directory watcher on Windows), or a timer where there is none (macOS).
    /// </summary>
    /// <remarks>
    /// A watch may wake for nothing, and may miss an entry (a watcher's buffer overflows, a store on a
    /// network file system). Neither matters for correctness: the waiter looks at the name after every
    /// wake and at the end of every slice, so a false wake costs one look and a missed one costs at most
    /// one slice of latency, never the segment and never a hang.
    /// </remarks>
    internal abstract class StoreWatch : IDisposable
    {
        /// <summary>How often a store without any notification is looked at: the polling interval of macOS and of every fallback.</summary>
        public const int PollMilliseconds = 20;

        /// <summary>The longest sleep between two looks: long where notifications come, <see cref="PollMilliseconds"/> where they do not.</summary>
        public abstract int SliceMilliseconds { get; }

        /// <summary>
        /// Makes the watch cover the store as it is now: a store directory created, removed or replaced since
        /// the last call is watched from here on. Called before every look at the name, so that a segment
        /// published after the look ends the next <see cref="Sleep"/> at once.
        /// </summary>
        public abstract void Arm();

        /// <summary>
        /// Sleeps for at most <paramref name="milliseconds"/>, less when the watch sees the segment's file name
        /// appear (then true) or <paramref name="cancellationToken"/> is cancelled (then false, and the caller
        /// throws).
        /// </summary>
        public abstract bool Sleep(int milliseconds, CancellationToken cancellationToken);

        public abstract void Dispose();

        /// <summary>Sleeps without a notification: until the time is up or the token is cancelled.</summary>
        protected static void SleepOnly(int milliseconds, CancellationToken cancellationToken)
        {
            if (cancellationToken.CanBeCanceled)
            {
                cancellationToken.WaitHandle.WaitOne(milliseconds);
            }
            else
            {
                Thread.Sleep(milliseconds);
            }
        }
    }

    /// <summary>
    /// A store that gives no notice of new entries: the waiter looks every <see cref="StoreWatch.PollMilliseconds"/>.
    /// macOS uses it (a kqueue on the store directory could replace it), and so does Linux when it has no inotify
    /// instance to spare.
    /// </summary>
    internal sealed class PollingStoreWatch : StoreWatch
    {
        public override int SliceMilliseconds => PollMilliseconds;

        public override void Arm()
        {
        }

        public override bool Sleep(int milliseconds, CancellationToken cancellationToken)
        {
            SleepOnly(milliseconds, cancellationToken);
            return false;
        }

        public override void Dispose()
        {
        }
    }
}
