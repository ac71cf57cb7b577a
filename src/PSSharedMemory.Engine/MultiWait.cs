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
    /// together with a word of this process that cancellation bumps. Windows waits for any of the
    /// segments' wake semaphores and the cancellation token's handle (WaitHandle.WaitAny, at most 64
    /// handles). Elsewhere, or with more words than one call takes, or on a Linux without futex_waitv, it
    /// sleeps on one word at a time in short slices, moving on to the next each slice, so a change of any
    /// word is seen within a slice. Every sleep is bounded, so a lost wake-up costs latency, not a hang.
    /// </remarks>
    internal static unsafe class MultiWait
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
            var viewOf = new int[segments.Count];
            for (int i = 0; i < segments.Count; i++)
            {
                SegmentView view = segments[i].View;
                int index = views.IndexOf(view);
                if (index < 0)
                {
                    index = views.Count;
                    views.Add(view);
                }

                viewOf[i] = index;
            }

            var leases = new SegmentView.Lease[views.Count];
            int entered = 0;
            int* cancelWord = null;
            CancellationTokenRegistration registration = default;
            try
            {
                for (; entered < views.Count; entered++)
                {
                    leases[entered] = views[entered].Enter();
                }

                var state = new SleepState(views, cancellationToken);
                if (cancellationToken.CanBeCanceled)
                {
                    // A word of this process that cancellation bumps: futex_waitv sleeps on it too, so a
                    // cancellation between the last check and the sleep still ends the sleep at once.
                    cancelWord = (int*)Marshal.AllocHGlobal(sizeof(int));
                    *cancelWord = 0;
                    state.CancelWord = cancelWord;
                    var word = (IntPtr)cancelWord;
                    registration = cancellationToken.Register(() => WakeForCancel(views, (int*)word));
                }

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

                    int cancelObserved = cancelWord is null ? 0 : Volatile.Read(ref *cancelWord);
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
                        // Counted as a waiter everywhere: a write from now on wakes the sleep below.
                        if (AnyReady(segments, sinceVersions) || cancellationToken.IsCancellationRequested)
                        {
                            continue;
                        }

                        // A read-only mapping cannot count itself, so writers do not wake it: short slices.
                        int slice = Math.Min(remaining, allCounted ? SliceMilliseconds : WaitWord.ReadOnlySliceMilliseconds);
                        Sleep(state, observed, cancelObserved, slice);
                    }
                    catch (NativeException e) when (e.ErrorCode == Libc.EFAULT && !e.IsWin32)
                    {
                        // A file was cut under the sleep; the next round's check reports it.
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
                // Waits for a cancellation callback in progress, which may still touch the word.
                registration.Dispose();
                if (cancelWord is not null)
                {
                    Marshal.FreeHGlobal((IntPtr)cancelWord);
                }

                for (int k = 0; k < entered; k++)
                {
                    leases[k].Dispose();
                }
            }
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

        private static void WakeForCancel(List<SegmentView> views, int* cancelWord)
        {
            Interlocked.Increment(ref *cancelWord);
            if (Libc.FutexSupported)
            {
                Libc.FutexWakePrivate(cancelWord);
            }

            // A sleep on one segment's word (without futex_waitv) wakes only through that word.
            foreach (SegmentView view in views)
            {
                lock (view.Gate)
                {
                    if (!view.IsDisposed)
                    {
                        view.ChangeWord.WakeAllQuietly();
                    }
                }
            }
        }

        /// <summary>Sleeps until a word leaves its observed value, a wake, a cancellation or the slice's end, whichever is first.</summary>
        private static void Sleep(SleepState state, int[] observed, int cancelObserved, int slice)
        {
            List<SegmentView> views = state.Views;
            for (int k = 0; k < views.Count; k++)
            {
                if (Volatile.Read(ref *views[k].Header.ChangeWord) != observed[k])
                {
                    return;
                }
            }

            if (views[0].Mapping.WakeHandle(views[0].Header.ChangeWord) is not null)
            {
                SleepOnWakeHandles(state, observed, slice);
                return;
            }

            int extra = state.CancelWord is null ? 0 : 1;
            if (Libc.FutexWaitvSupported && !DisableFutexWaitv && Volatile.Read(ref s_futexWaitv) >= 0 && views.Count + extra <= Libc.FutexWaitvMax)
            {
                if (SleepOnFutexWaitv(state, observed, cancelObserved, slice))
                {
                    return;
                }

                Volatile.Write(ref s_futexWaitv, -1);
            }

            SleepInRotation(state, observed, slice);
        }

        private static bool SleepOnFutexWaitv(SleepState state, int[] observed, int cancelObserved, int slice)
        {
            List<SegmentView> views = state.Views;
            int count = views.Count + (state.CancelWord is null ? 0 : 1);
            Libc.FutexWaiter* waiters = stackalloc Libc.FutexWaiter[count];
            for (int k = 0; k < views.Count; k++)
            {
                waiters[k] = new Libc.FutexWaiter
                {
                    Value = (uint)observed[k],
                    Address = (ulong)views[k].Header.ChangeWord,
                    Flags = Libc.FutexWaitvShared32,
                };
            }

            if (state.CancelWord is not null)
            {
                waiters[count - 1] = new Libc.FutexWaiter
                {
                    Value = (uint)cancelObserved,
                    Address = (ulong)state.CancelWord,
                    Flags = Libc.FutexWaitvPrivate32,
                };
            }

            if (!Libc.FutexWaitv(waiters, count, slice))
            {
                return false;
            }

            if (Volatile.Read(ref s_futexWaitv) == 0)
            {
                Volatile.Write(ref s_futexWaitv, 1);
            }

            return true;
        }

        /// <summary>Windows: waits for any segment's wake semaphore, or the cancellation token, at most 64 handles at a time.</summary>
        private static void SleepOnWakeHandles(SleepState state, int[] observed, int slice)
        {
            List<SegmentView> views = state.Views;
            WaitHandle? cancel = state.CancellationToken.CanBeCanceled ? state.CancellationToken.WaitHandle : null;
            int room = MaxWaitHandles - (cancel is null ? 0 : 1);
            int chunks = (views.Count + room - 1) / room;
            int first = chunks == 1 ? 0 : (state.Rotation++ % chunks) * room;
            int count = Math.Min(room, views.Count - first);
            var handles = new WaitHandle[count + (cancel is null ? 0 : 1)];
            for (int k = 0; k < count; k++)
            {
                handles[k] = views[first + k].Mapping.WakeHandle(views[first + k].Header.ChangeWord)!;
            }

            if (cancel is not null)
            {
                handles[count] = cancel;
            }

            // More segments than one wait takes: the others are looked at after each short slice.
            WaitHandle.WaitAny(handles, chunks == 1 ? slice : Math.Min(slice, RotationSliceMilliseconds));
        }

        /// <summary>
        /// Without a wait on several words: sleeps on one word (a futex on Linux, polling on macOS), a short
        /// slice at a time, the next word each round, so the caller's check sees any word's change within a slice.
        /// </summary>
        private static void SleepInRotation(SleepState state, int[] observed, int slice)
        {
            List<SegmentView> views = state.Views;
            int k = state.Rotation++ % views.Count;

            // One word on Linux sleeps the whole slice: cancellation wakes that word too.
            bool whole = views.Count == 1 && Libc.FutexSupported;
            views[k].Mapping.Wait(views[k].Header.ChangeWord, observed[k], whole ? slice : Math.Min(slice, RotationSliceMilliseconds));
        }

        private sealed class SleepState
        {
            public SleepState(List<SegmentView> views, CancellationToken cancellationToken)
            {
                Views = views;
                CancellationToken = cancellationToken;
            }

            public List<SegmentView> Views { get; }

            public CancellationToken CancellationToken { get; }

            public int* CancelWord;

            public int Rotation;
        }
    }
}
