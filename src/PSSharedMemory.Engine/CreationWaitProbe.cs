using System;
using System.Threading;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// Test hook for <see cref="SegmentCatalog.WaitForCreation"/>: counts its looks and how each sleep ended,
    /// can stretch its slices (so a wait that returns early was woken by a notice, not by a timer), and runs an
    /// action after the first look found nothing, before the first sleep.
    /// </summary>
    internal sealed class CreationWaitProbe
    {
        private int _looks;
        private int _notices;
        private int _slicesEnded;

        /// <summary>Replaces the watch's slice when set.</summary>
        public int? SliceMilliseconds { get; set; }

        /// <summary>Runs once, on the waiting thread, right after the first look found no segment.</summary>
        public Action? AfterFirstLook { get; set; }

        /// <summary>Looks at the name that found nothing.</summary>
        public int Looks => Volatile.Read(ref _looks);

        /// <summary>Sleeps a notice of the store ended.</summary>
        public int Notices => Volatile.Read(ref _notices);

        /// <summary>Sleeps that ended with their slice (or a cancellation).</summary>
        public int SlicesEnded => Volatile.Read(ref _slicesEnded);

        internal void Looked()
        {
            if (Interlocked.Increment(ref _looks) == 1)
            {
                AfterFirstLook?.Invoke();
            }
        }

        /// <summary>The Stopwatch timestamp at which the last sleep ended.</summary>
        public long LastWakeTimestamp { get; private set; }

        internal void Woke(bool notified)
        {
            LastWakeTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
            Interlocked.Increment(ref notified ? ref _notices : ref _slicesEnded);
        }
    }
}
