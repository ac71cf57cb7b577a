using System;
using System.Diagnostics;
using System.Threading;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// The segment's cross-process lock as one handle holds it: re-entrant for the handle, free of thread
    /// affinity, built on the mapping's file lock (flock or LockFileEx, which the OS releases when the
    /// holder dies), with LockOwnerPid recording the holder so that a lock taken over from a dead process
    /// is reported, and LockWord waking the processes that wait for it.
    /// </summary>
    internal sealed unsafe class SegmentLock
    {
        // A holder that dies bumps nothing, so lock waits sleep in slices this long.
        private const int WaitSliceMilliseconds = 50;

        private static readonly int s_processId = Process.GetCurrentProcess().Id;

        private readonly SegmentView _view;
        private int _depth;
        private int _abandonedLockProcessId;

        // What the header's abandoned-lock report held when this handle last took the file lock: 0 (none),
        // a process id, or -1 (not known: taken since, or no lock taken).
        private int _reportAtTake = -1;

        public SegmentLock(SegmentView view) => _view = view;

        public bool IsHeld
        {
            get
            {
                lock (_view.Gate)
                {
                    return _depth > 0;
                }
            }
        }

        /// <summary>While held: the process that held the lock before and died holding it, else 0.</summary>
        public int AbandonedLockProcessId => Volatile.Read(ref _abandonedLockProcessId);

        /// <summary>Takes the lock, or one more level of it. The caller holds a lease on the view.</summary>
        public void Acquire(TimeSpan timeout, CancellationToken cancellationToken)
        {
            _view.ThrowIfUnusable();
            _view.ThrowIfReadOnly("locked or written");
            try
            {
                // The uncontended path allocates nothing; waiting is in its own method.
                if (TryTake())
                {
                    return;
                }
            }
            catch (NativeException e)
            {
                throw _view.Translate(e);
            }

            AcquireWaiting(timeout, cancellationToken);
        }

        private void AcquireWaiting(TimeSpan timeout, CancellationToken cancellationToken)
        {
            Deadline deadline = Deadline.After(timeout);
            CancellationTokenRegistration registration = default;
            try
            {
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int remaining = deadline.RemainingMilliseconds;
                    if (remaining == 0)
                    {
                        throw SegmentErrors.LockTimeout(_view.Name, timeout, Volatile.Read(ref _view.Header.LockOwnerPid));
                    }

                    if (cancellationToken.CanBeCanceled && registration == default)
                    {
                        registration = cancellationToken.Register(() => WakeOnCancel(_view.LockWord));
                    }

                    // Sleep until an unlock bumps the word; try once more after registering as a waiter.
                    WaitWord word = _view.LockWord;
                    int observed = word.Observe();
                    bool taken = false;
                    word.Sleep(observed, Math.Min(remaining, WaitSliceMilliseconds), () => (taken = TryTake()) || cancellationToken.IsCancellationRequested);
                    if (taken)
                    {
                        return;
                    }

                    // Time passed since the caller's check; the file may have been cut meanwhile.
                    _view.CheckIntact();
                    if (TryTake())
                    {
                        return;
                    }
                }
            }
            catch (NativeException e)
            {
                throw _view.Translate(e);
            }
            finally
            {
                registration.Dispose();
            }
        }

        /// <summary>
        /// Releases one level. <paramref name="checkFile"/> is false only inside one engine operation that
        /// checked the file when it began (a write releasing the lock it took itself); a release after
        /// caller code ran checks again before it writes the header.
        /// </summary>
        public void Release(bool checkFile)
        {
            lock (_view.Gate)
            {
                if (_depth == 0)
                {
                    throw SegmentErrors.NotLocked(_view.Name);
                }

                if (--_depth > 0 || _view.IsDisposed)
                {
                    return;
                }

                ReleaseFileLock(checkFile);
            }
        }

        /// <summary>Gives the lock up when the handle closes. The caller holds the view's gate.</summary>
        public void ReleaseOnClose()
        {
            if (_depth == 0)
            {
                return;
            }

            _depth = 0;
            try
            {
                ReleaseFileLock(checkFile: true);
            }
            catch (NativeException)
            {
                // Closing the file releases it anyway.
            }
        }

        /// <summary>
        /// For a read-only handle, which may not record itself as the owner: holds only the file lock, so a
        /// read can wait out a writer. Released with the mapping's Unlock.
        /// </summary>
        public void AcquireFileLockOnly(TimeSpan timeout, CancellationToken cancellationToken)
        {
            Deadline deadline = Deadline.After(timeout);
            try
            {
                while (!_view.Mapping.TryLock())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int remaining = deadline.RemainingMilliseconds;
                    if (remaining == 0)
                    {
                        throw SegmentErrors.BusyWriters(_view.Name, timeout);
                    }

                    _view.CheckIntact();
                    WaitWord word = _view.LockWord;
                    word.Sleep(word.Observe(), Math.Min(remaining, WaitWord.ReadOnlySliceMilliseconds), () => false);
                }
            }
            catch (NativeException e)
            {
                throw _view.Translate(e);
            }
        }

        /// <summary>
        /// Whether the lock is held now, and by which process: this one when this handle holds it, else the
        /// recorded owner (0 in the instant between another holder's lock and its record). Probed with a
        /// non-blocking file lock that is let go at once. The caller holds a lease.
        /// </summary>
        public bool ProbeHeld(out int holder)
        {
            lock (_view.Gate)
            {
                if (_depth > 0)
                {
                    holder = s_processId;
                    return true;
                }

                holder = Volatile.Read(ref _view.Header.LockOwnerPid);
                if (!_view.Mapping.TryLock())
                {
                    return true;
                }

                _view.Mapping.Unlock();
                holder = 0;
                return false;
            }
        }

        /// <summary>
        /// Takes the pending report of a holder that died with the lock: its process id, once, for the first
        /// caller that can report it; 0 when there is none. The caller holds a lease.
        /// </summary>
        public int TakeAbandonedReport()
        {
            Volatile.Write(ref _reportAtTake, -1);
            _view.ThrowIfReadOnly("locked or written");
            return Interlocked.Exchange(ref _view.Header.AbandonedLockPid, 0);
        }

        /// <summary>
        /// True when the header held no report when this handle last took the file lock, and no one has asked
        /// since: then there is nothing for this handle to report, and the header need not be read. A report
        /// that a later taker of the lock finds is that taker's, not this handle's. Asking clears it.
        /// </summary>
        public bool NoReportAtLastTake() => Interlocked.Exchange(ref _reportAtTake, -1) == 0;

        /// <summary>Wakes this handle's sleepers on <paramref name="word"/> so they see a cancellation at once.</summary>
        public void WakeOnCancel(WaitWord word)
        {
            lock (_view.Gate)
            {
                if (!_view.IsDisposed)
                {
                    word.WakeAllQuietly();
                }
            }
        }

        private bool TryTake()
        {
            lock (_view.Gate)
            {
                _view.ThrowIfUnusable();
                if (_depth > 0)
                {
                    _depth++;
                    return true;
                }

                if (!_view.Mapping.TryLock())
                {
                    return false;
                }

                // A holder still recorded here died with the lock (the OS released it). Keep it in the header
                // until a caller that can tell the user takes the report (TakeAbandonedReport).
                ref int owner = ref _view.Header.LockOwnerPid;
                int dead = owner;
                Volatile.Write(ref _abandonedLockProcessId, dead);
                if (dead != 0)
                {
                    Interlocked.CompareExchange(ref _view.Header.AbandonedLockPid, dead, 0);
                }

                Volatile.Write(ref _reportAtTake, Volatile.Read(ref _view.Header.AbandonedLockPid));

                owner = s_processId;
                _depth = 1;
                return true;
            }
        }

        private void ReleaseFileLock(bool checkFile)
        {
            Volatile.Write(ref _abandonedLockProcessId, 0);
            bool intact = !checkFile || _view.Mapping.CheckIntact() is null;
            if (intact)
            {
                _view.Header.LockOwnerPid = 0;
            }

            _view.Mapping.Unlock();
            if (intact)
            {
                _view.LockWord.Bump();
            }
        }
    }
}
