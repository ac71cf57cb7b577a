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

        /// <summary>Sleeps until a word leaves its observed value, a wake, an interrupt or the slice's end, whichever is first.</summary>
        private static void Sleep(SleepState state, int[] observed, int interruptObserved, int slice)
        {
            List<SegmentView> views = state.Views;
            for (int k = 0; k < views.Count; k++)
            {
                if (Volatile.Read(ref *views[k].Header.ChangeWord) != observed[k])
                {
                    return;
                }
            }

            if (state.WakeHandles is not null)
            {
                SleepOnWakeHandles(state, slice);
                return;
            }

            if (Libc.FutexWaitvSupported && !DisableFutexWaitv && Volatile.Read(ref s_futexWaitv) >= 0 && views.Count + 1 <= Libc.FutexWaitvMax)
            {
                if (SleepOnFutexWaitv(state, observed, interruptObserved, slice))
                {
                    return;
                }

                Volatile.Write(ref s_futexWaitv, -1);
            }

            SleepInRotation(state, observed, slice);
        }

        private static bool SleepOnFutexWaitv(SleepState state, int[] observed, int interruptObserved, int slice)
        {
            List<SegmentView> views = state.Views;
            int count = views.Count + 1;
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

            waiters[count - 1] = new Libc.FutexWaiter
            {
                Value = (uint)interruptObserved,
                Address = (ulong)state.Interrupt.Word,
                Flags = Libc.FutexWaitvPrivate32,
            };

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

        /// <summary>Windows: waits for any segment's wake semaphore, or the interrupt, at most 64 handles at a time.</summary>
        private static void SleepOnWakeHandles(SleepState state, int slice)
        {
            WaitHandle[] wakeHandles = state.WakeHandles!;
            int room = MaxWaitHandles - 1;
            int chunks = (wakeHandles.Length + room - 1) / room;
            int first = chunks == 1 ? 0 : (state.Rotation++ % chunks) * room;
            int count = Math.Min(room, wakeHandles.Length - first);
            var handles = new WaitHandle[count + 1];
            Array.Copy(wakeHandles, first, handles, 0, count);
            handles[count] = state.Interrupt.Event!;

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
            public SleepState(List<SegmentView> views, Interrupt interrupt, WaitHandle[]? wakeHandles)
            {
                Views = views;
                Interrupt = interrupt;
                WakeHandles = wakeHandles;
            }

            public List<SegmentView> Views { get; }

            public Interrupt Interrupt { get; }

            /// <summary>Windows: each view's change semaphore; null elsewhere.</summary>
            public WaitHandle[]? WakeHandles { get; }

            public int Rotation;
        }

        /// <summary>
        /// What ends one wait's sleep from this process, whatever it sleeps on: a word of this process that
        /// futex_waitv sleeps on too (Linux), and an event among WaitAny's handles (Windows).
        /// </summary>
        private sealed class Interrupt : IDisposable
        {
            private readonly List<SegmentView> _views;

            public Interrupt(List<SegmentView> views, bool withEvent)
            {
                _views = views;
                Word = (int*)Marshal.AllocHGlobal(sizeof(int));
                *Word = 0;
                Event = withEvent ? new ManualResetEvent(false) : null;
            }

            public int* Word { get; }

            public ManualResetEvent? Event { get; }

            public int Observe() => Volatile.Read(ref *Word);

            /// <summary>For a handle that closes; runs under that handle's gate, so it takes no other.</summary>
            public void Signal()
            {
                Interlocked.Increment(ref *Word);
                if (Libc.FutexSupported)
                {
                    Libc.FutexWakePrivate(Word);
                }

                Event?.Set();
            }

            /// <summary>For a cancellation: also wakes a sleep on one segment's own word (without futex_waitv).</summary>
            public void SignalAndWakeWords()
            {
                Signal();
                foreach (SegmentView view in _views)
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

            public void Dispose()
            {
                Marshal.FreeHGlobal((IntPtr)Word);
                Event?.Dispose();
            }
        }
    }
}
