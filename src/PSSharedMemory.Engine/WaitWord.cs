using System;
using System.Threading;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// One wait word of the header and the waiter count stored right after it: how a process sleeps until
    /// another bumps the word (a futex on Linux, a named semaphore on Windows, polling on macOS), and how
    /// the bumper wakes it with a system call only when someone waits. Used by the lock and change waits.
    /// </summary>
    internal readonly unsafe struct WaitWord
    {
        /// <summary>
        /// A read-only mapping cannot count itself as a waiter, so wakers do not call it: it sleeps in
        /// slices this short instead.
        /// </summary>
        public const int ReadOnlySliceMilliseconds = 2;

        private readonly SegmentMapping _mapping;
        private readonly int* _word;

        public WaitWord(SegmentMapping mapping, int* word)
        {
            _mapping = mapping;
            _word = word;
        }

        private ref int Waiters => ref *(_word + 1);

        /// <summary>The word's value now; pass it to <see cref="Sleep"/> so a bump in between is not missed.</summary>
        public int Observe() => Volatile.Read(ref *_word);

        /// <summary>
        /// Sleeps while the word still holds <paramref name="observed"/>, at most one slice, unless
        /// <paramref name="satisfied"/> (tried after registering as a waiter, so a wake between the caller's
        /// check and the sleep is not lost) says there is nothing to wait for. Returns early on any bump.
        /// Returns true when <paramref name="satisfied"/> did.
        /// </summary>
        public bool Sleep(int observed, int sliceMilliseconds, Func<bool> satisfied)
        {
            bool counted = CountWaiter();
            try
            {
                if (satisfied())
                {
                    return true;
                }

                SleepCounted(observed, sliceMilliseconds, counted);
                return false;
            }
            finally
            {
                if (counted)
                {
                    UncountWaiter();
                }
            }
        }

        /// <summary>
        /// The sleep of <see cref="Sleep"/> for a caller that counted itself with <see cref="CountWaiter"/>
        /// (<paramref name="counted"/>: what it returned) and takes the count back itself.
        /// </summary>
        public void SleepCounted(int observed, int sliceMilliseconds, bool counted)
        {
            try
            {
                _mapping.Wait(_word, observed, counted ? sliceMilliseconds : Math.Min(sliceMilliseconds, ReadOnlySliceMilliseconds));
            }
            catch (NativeException e) when (e.ErrorCode == Libc.EFAULT)
            {
                // The file was cut under the wait; the caller's next check reports it.
            }
        }

        /// <summary>
        /// Takes back a count of <see cref="CountWaiter"/> when the caller has just checked that the file still
        /// backs the mapping (<see cref="UncountWaiter"/> checks that itself).
        /// </summary>
        public void UncountWaiterChecked() => Interlocked.Decrement(ref Waiters);

        /// <summary>The word's address in this process.</summary>
        public int* Address => _word;

        /// <summary>The mapping the word lives in.</summary>
        public SegmentMapping Mapping => _mapping;

        /// <summary>
        /// Counts one more sleeper, so a bump wakes it; call before the last check of whatever is waited for.
        /// False (and nothing counted) for a mapping that cannot count itself: it must sleep in short slices.
        /// </summary>
        public bool CountWaiter()
        {
            if (!_mapping.CanWaitForWake)
            {
                return false;
            }

            Interlocked.Increment(ref Waiters);
            return true;
        }

        /// <summary>Takes back a count of <see cref="CountWaiter"/>, unless the file was cut under the mapping.</summary>
        public void UncountWaiter()
        {
            if (_mapping.CheckIntact() is null)
            {
                Interlocked.Decrement(ref Waiters);
            }
        }

        /// <summary>Bumps the word and wakes its sleepers, with a system call only when there are any.</summary>
        public void Bump()
        {
            Interlocked.Increment(ref *_word);
            if (Volatile.Read(ref Waiters) > 0)
            {
                _mapping.WakeAll(_word);
            }
        }

        /// <summary>Wakes every sleeper without changing the word, for a cancellation or a closing handle.</summary>
        public void WakeAllQuietly()
        {
            try
            {
                _mapping.WakeAll(_word);
            }
            catch (NativeException)
            {
                // The file was cut under the mapping (EFAULT); sleepers end with their slice.
            }
        }
    }
}
