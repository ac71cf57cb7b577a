using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    /// <summary>How a multi-segment wait sleeps: futex_waitv on Linux, WaitAny on Windows, a rotation over the words elsewhere.</summary>
    internal static unsafe partial class MultiWait
    {
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
    }
}
