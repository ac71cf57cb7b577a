using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// One thread waiting until any of several segments changes: the multi-segment form of
    /// <see cref="PayloadChannel.WaitForVersion"/>, with the same waiter-count protocol on each segment's
    /// ChangeWord (docs/segment-format.md, "Waiting for a change"). Each round it notes every ChangeWord,
    /// counts itself as a waiter on each, checks the versions once more, and only then sleeps, so a write
    /// between the check and the sleep either shows in the check or wakes the sleep.
    /// </summary>
    /// <remarks>
    /// How it sleeps, by OS: Linux sleeps on all the words in one futex_waitv call (5.16 and later),
    /// together with a word of this process that a cancellation or a closing handle bumps. Windows waits
    /// for any of the segments' wake semaphores and an event that a cancellation or a closing handle sets
    /// (WaitHandle.WaitAny, at most 64 handles, so 63 segments at a time). Elsewhere, or with more words
    /// than one call takes, or on a Linux without futex_waitv, it sleeps on one word at a time in short
    /// slices, moving on to the next each slice, so a change of any word is seen within a slice. Every
    /// sleep is bounded, so a lost wake-up costs latency, not a hang.
    /// </remarks>
    internal static unsafe partial class MultiWait
    {
        /// <summary>
        /// The longest single sleep, as in the single wait. Test hook: a test that sets it far above its own
        /// timeout shows that a wait ended because something woke it, not because a slice ran out.
        /// </summary>
        internal static int SliceMilliseconds = 200;

        /// <summary>The sleep on one word when the others are not watched meanwhile.</summary>
        private const int RotationSliceMilliseconds = 10;

        /// <summary>WaitHandle.WaitAny takes at most this many handles.</summary>
        private const int MaxWaitHandles = 64;

        // 0: not tried yet, 1: futex_waitv works, -1: this kernel has none.
        private static int s_futexWaitv;

        /// <summary>Test hook: sleep in slices over the words, as without futex_waitv.</summary>
        internal static bool DisableFutexWaitv;

        /// <summary>True once futex_waitv has served a sleep; false once it was found missing; null before either.</summary>
        internal static bool? FutexWaitvWorks => Volatile.Read(ref s_futexWaitv) switch { 1 => true, -1 => false, _ => null };

        /// <summary>
        /// Adds to <paramref name="ready"/> the indices of the segments whose version is greater than their
        /// entry of <paramref name="sinceVersions"/>, or that were removed, and returns true; waits for one
        /// if there is none yet. Returns false (and adds nothing) when the timeout passes first.
        /// </summary>
        public static bool WaitForAny(IReadOnlyList<SharedMemorySegment> segments, IReadOnlyList<long> sinceVersions, TimeSpan timeout,
            CancellationToken cancellationToken, List<int> ready)
        {
            Deadline deadline = Deadline.After(timeout);

            // Each handle is waited on once, however often it is listed.
            var views = new List<SegmentView>(segments.Count);
            foreach (SharedMemorySegment segment in segments)
            {
                if (!views.Contains(segment.View))
                {
                    views.Add(segment.View);
                }
            }

            var leases = new SegmentView.Lease[views.Count];
            int entered = 0;
            int listening = 0;
            Interrupt? interrupt = null;
            Action? closed = null;
            CancellationTokenRegistration registration = default;
            try
            {
                for (; entered < views.Count; entered++)
                {
                    leases[entered] = views[entered].Enter();
                }

                // Windows: the wake objects are taken before the first count, so a close that disposes
                // one either finds this wait inside it (and wakes it) or makes the wait fail at once.
                WaitHandle[]? wakeHandles = null;
                if (views[0].Mapping.WakeHandle(views[0].Header.ChangeWord) is not null)
                {
                    wakeHandles = new WaitHandle[views.Count];
                    for (int k = 0; k < views.Count; k++)
                    {
                        wakeHandles[k] = views[k].Mapping.WakeHandle(views[k].Header.ChangeWord)!;
                    }
                }

                // Cancellation, and any of the handles closing, interrupt the sleep at once.
                interrupt = new Interrupt(views, withEvent: wakeHandles is not null);
                closed = interrupt.Signal;
                for (; listening < views.Count; listening++)
                {
                    views[listening].AddCloseListener(closed);
                }

                if (cancellationToken.CanBeCanceled)
                {
                    registration = cancellationToken.Register(interrupt.SignalAndWakeWords);
                }

                var state = new SleepState(views, interrupt, wakeHandles);
                var observed = new int[views.Count];
                var counted = new bool[views.Count];
                while (true)
                {
                    foreach (SegmentView view in views)
                    {
                        view.CheckIntact();
                        if (view.IsDisposed)
                        {
                            throw new ObjectDisposedException(nameof(SharedMemorySegment), $"The handle to segment '{view.Name}' was closed.");
                        }
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    if (CollectReady(segments, sinceVersions, ready))
                    {
                        return true;
                    }

                    int remaining = deadline.RemainingMilliseconds;
                    if (remaining == 0)
                    {
                        return false;
                    }

                    int interruptObserved = interrupt.Observe();
                    bool allCounted = true;
                    for (int k = 0; k < views.Count; k++)
                    {
                        WaitWord changes = views[k].ChangeWord;
                        observed[k] = changes.Observe();
                        counted[k] = changes.CountWaiter();
                        allCounted &= counted[k];
                    }

                    try
                    {
                        // Counted as a waiter everywhere: a write from now on wakes the sleep below, and a
                        // cancellation or a close from now on interrupts it.
                        if (AnyReady(segments, sinceVersions) || cancellationToken.IsCancellationRequested || AnyDisposed(views))
                        {
                            continue;
                        }

                        // A read-only mapping cannot count itself, so writers do not wake it: short slices.
                        int slice = Math.Min(remaining, allCounted ? SliceMilliseconds : WaitWord.ReadOnlySliceMilliseconds);
                        Sleep(state, observed, interruptObserved, slice);
                    }
                    catch (NativeException e) when (e.ErrorCode == Libc.EFAULT && !e.IsWin32)
                    {
                        // A file was cut under the sleep; the next round's check reports it.
                    }
                    catch (ObjectDisposedException)
                    {
                        // A wake object was disposed with its handle; the next round's check says which.
                    }
                    finally
                    {
                        for (int k = 0; k < views.Count; k++)
                        {
                            if (counted[k])
                            {
                                views[k].ChangeWord.UncountWaiter();
                            }
                        }
                    }
                }
            }
            catch (NativeException e)
            {
                throw views[0].Translate(e);
            }
            finally
            {
                // Both wait for a callback in progress, which may still touch the interrupt.
                registration.Dispose();
                for (int k = 0; k < listening; k++)
                {
                    views[k].RemoveCloseListener(closed!);
                }

                interrupt?.Dispose();
                for (int k = 0; k < entered; k++)
                {
                    leases[k].Dispose();
                }
            }
        }

        private static bool AnyDisposed(List<SegmentView> views)
        {
            foreach (SegmentView view in views)
            {
                if (view.IsDisposed)
                {
                    return true;
                }
            }

            return false;
        }

        private static bool CollectReady(IReadOnlyList<SharedMemorySegment> segments, IReadOnlyList<long> sinceVersions, List<int> ready)
        {
            for (int i = 0; i < segments.Count; i++)
            {
                if (IsReady(segments[i].View, sinceVersions[i]))
                {
                    ready.Add(i);
                }
            }

            return ready.Count > 0;
        }

        private static bool AnyReady(IReadOnlyList<SharedMemorySegment> segments, IReadOnlyList<long> sinceVersions)
        {
            for (int i = 0; i < segments.Count; i++)
            {
                if (IsReady(segments[i].View, sinceVersions[i]))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>A completed write newer than <paramref name="sinceVersion"/>, or a removal. The caller holds a lease.</summary>
        private static bool IsReady(SegmentView view, long sinceVersion)
        {
            long raw = Volatile.Read(ref view.Header.Sequence);
            return ((raw & 1) == 0 && (raw >> 1) > sinceVersion) || view.Header.IsRemoved;
        }
    }
}
