using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    internal static unsafe partial class MultiWait
    {
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
