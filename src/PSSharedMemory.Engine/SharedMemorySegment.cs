using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Threading;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// A named block of memory shared by processes on one machine: a header (see
    /// docs/segment-format.md) and a payload of fixed size. A segment lives until it is removed or
    /// the machine restarts, whether or not any process has it open.
    /// </summary>
    /// <remarks>
    /// This type is the public face. The parts: <see cref="SegmentCatalog"/> (create, open, list,
    /// remove), <see cref="SegmentView"/> (the mapping and the rules for touching it),
    /// <see cref="SegmentHeader"/> (the header's fields), <see cref="PayloadChannel"/> (the sequence-lock
    /// write and read protocol), <see cref="SegmentLock"/> (the cross-process lock) and
    /// <see cref="WaitWord"/> (sleeping until another process bumps a word). The lock belongs to this
    /// handle, not to a thread, and is re-entrant for it. An instance may be used from several threads,
    /// but they share its lock ownership.
    /// </remarks>
    public sealed unsafe partial class SharedMemorySegment : ISharedMemorySegment
    {
        /// <summary>Largest size accepted: 1 TiB.</summary>
        public const long MaxSize = 1L << 40;

        /// <summary>The former name of <see cref="MaxSize"/>.</summary>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public const long MaxCapacity = MaxSize;

        /// <summary>Default wait for the lock inside a write, and inside a read that writers keep from a clean copy.</summary>
        public static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(30);

        private readonly SegmentView _view;
        private readonly SegmentLock _lock;
        private readonly PayloadChannel _channel;
        private readonly QueueChannel _queue;

        internal SharedMemorySegment(SegmentView view)
        {
            _view = view;
            _lock = new SegmentLock(view);
            _channel = new PayloadChannel(view, _lock);
            _queue = new QueueChannel(view, _lock);
        }

        /// <summary>The segment's name.</summary>
        public string Name => _view.Name;

        /// <summary>The namespace the segment lives in.</summary>
        public SharedMemoryScope Scope => _view.Scope;

        /// <summary>
        /// The payload's size in bytes: the most one write can hold, exactly as requested at creation. A
        /// growable segment's size is its current one, which rises when a write needs more room.
        /// </summary>
        public long Size => _view.IsGrowable ? Peek(h => Volatile.Read(ref h.Size)) : _view.Size;

        /// <summary>True when the segment grows to hold a larger write (up to <see cref="MaximumSize"/>) instead of refusing it.</summary>
        public bool IsGrowable => _view.IsGrowable;

        /// <summary>The most the segment can hold: <see cref="Size"/> for a segment of fixed size, the limit of its growth otherwise.</summary>
        public long MaximumSize => _view.IsGrowable ? Peek(h => h.MaxSize) : _view.Size;

        /// <summary>The former name of <see cref="Size"/>.</summary>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public long Capacity => Size;

        /// <summary>Bytes of payload stored by the last write.</summary>
        public long Length => Peek(h => Volatile.Read(ref h.PayloadLength));

        /// <summary>What the payload holds.</summary>
        public SharedMemoryContentType ContentType => (SharedMemoryContentType)Peek(h => (long)Volatile.Read(ref h.ContentType));

        /// <summary>The number of completed writes; rises with every write.</summary>
        public long Version => Peek(h => Volatile.Read(ref h.Sequence) >> 1);

        /// <summary>The former name of <see cref="Version"/>.</summary>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public long Sequence => Version;

        /// <summary>The process that wrote last, 0 before the first write.</summary>
        public int LastWriterProcessId => (int)Peek(h => Volatile.Read(ref h.LastWriterPid));

        /// <summary>The process that created the segment.</summary>
        public int CreatorProcessId => (int)Peek(h => h.CreatorPid);

        /// <summary>When the last write completed; the creation time before the first write.</summary>
        public DateTime LastWriteTimeUtc => SegmentHeader.FromUnixNanoseconds(Peek(h => Volatile.Read(ref h.LastWriteTime)));

        /// <summary>When the segment was created.</summary>
        public DateTime CreationTimeUtc => SegmentHeader.FromUnixNanoseconds(Peek(h => h.CreationTime));

        /// <summary>True once any process has removed the segment; every operation then fails with Removed.</summary>
        public bool IsRemoved => Peek(h => h.IsRemoved ? 1 : 0) != 0;

        /// <summary>True while this handle holds the lock.</summary>
        public bool IsLockHeld => _lock.IsHeld;

        /// <summary>
        /// While this handle holds the lock: the id of a process that had held it and ended without
        /// releasing it (the OS released it; this reports it), or 0 when it was released normally.
        /// 0 whenever this handle does not hold the lock.
        /// </summary>
        public int AbandonedLockProcessId => _lock.AbandonedLockProcessId;

        /// <summary>True after <see cref="Dispose"/>.</summary>
        public bool IsDisposed => _view.IsDisposed;

        /// <summary>
        /// True when this user may read the segment but not write it (its file grants read permission only).
        /// Reads and waits work; writes, the lock and removal fail with <see cref="SharedMemoryErrorCode.ReadOnly"/>.
        /// </summary>
        public bool IsReadOnly => _view.Mapping.IsReadOnly;

        /// <summary>The local store, which holds every segment of this type.</summary>
        public ISharedMemoryStore Store => LocalSharedMemoryStore.Instance;

        /// <summary>The directory this handle's segment file was opened in.</summary>
        public string StoreDirectory => _view.Store.Directory;

        internal SegmentMapping Mapping => _view.Mapping;

        internal SegmentView View => _view;

        /// <summary>
        /// True when the segment's name no longer leads to the file this handle has open: another program
        /// deleted or replaced the file without removing the segment properly (for example a cleaner of
        /// temporary files). Such a handle reads and writes a file no one else sees; open the name again.
        /// Fails when the store is no longer trusted.
        /// </summary>
        public bool IsOrphaned()
        {
            // The store is looked at first: when the name still leads to this file, that look also shows
            // whether the file backs the mapping, which saves the check before the header is read.
            using (SegmentView.Lease lease = _view.EnterUnchecked())
            {
                try
                {
                    if (_view.Store.IsOrphaned(Name, _view.Mapping, lease.Region.Length, out bool intact))
                    {
                        return true;
                    }

                    if (!intact)
                    {
                        _view.CheckIntact(lease.Region);
                    }

                    if (_view.Header.IsRemoved)
                    {
                        return true;
                    }

                    // The caller uses the handle next (a cache revalidating it): its first access need not
                    // check the file again.
                    _view.VouchIntact(lease.Region.Length);
                    return false;
                }
                catch (Native.NativeException e)
                {
                    throw _view.Translate(e);
                }
            }
        }

        /// <summary>
        /// The header's fields from one moment: read between two looks at the sequence, so they never mix
        /// two writes (while a write is in progress, or after one was interrupted, the last fields seen).
        /// </summary>
        public SharedMemorySegmentInfo GetInfo()
        {
            using (_view.Enter())
            {
                _view.ThrowIfUnusable();
                SegmentHeader.Snapshot snapshot = _view.Header.TakeSnapshot();
                bool locked;
                int holder;
                try
                {
                    locked = _lock.ProbeHeld(out holder);
                }
                catch (Native.NativeException e)
                {
                    throw _view.Translate(e);
                }

                long length = snapshot.PayloadLength;
                long messages = 0;
                if (_view.IsQueue)
                {
                    using SegmentView.Lease lease = _view.Enter();
                    (messages, length) = _queue.Measure(lease.Region);
                }

                return new SharedMemorySegmentInfo(Name, Scope, _view.Size, length, (SharedMemoryContentType)snapshot.ContentType,
                    snapshot.Sequence >> 1, snapshot.LastWriterPid, SegmentHeader.FromUnixNanoseconds(snapshot.LastWriteTime),
                    SegmentHeader.FromUnixNanoseconds(_view.Header.CreationTime), _view.Header.CreatorPid, IsReadOnly)
                {
                    IsLocked = locked,
                    LockHolderProcessId = holder,
                    IsGrowable = _view.IsGrowable,
                    MaximumSize = _view.MaxSize,
                    Kind = Kind,
                    MessageCount = messages,
                };
            }
        }

        /// <summary>
        /// Takes the segment's cross-process lock. It excludes every other handle, in this process or another,
        /// is re-entrant for this handle, and is released by the OS if the process dies.
        /// </summary>
        /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.</param>
        /// <param name="cancellationToken">Ends the wait with <see cref="OperationCanceledException"/>.</param>
        /// <returns>A token whose Dispose releases one level of the lock.</returns>
        public IDisposable Lock(TimeSpan timeout, CancellationToken cancellationToken)
        {
            using (_view.Enter())
            {
                _lock.Acquire(timeout, cancellationToken);
            }

            return new LockRelease(this);
        }

        /// <summary>Takes the lock, waiting at most <paramref name="timeout"/>.</summary>
        public IDisposable Lock(TimeSpan timeout) => Lock(timeout, CancellationToken.None);

        /// <summary>Releases one level of the lock. Fails with NotLocked when this handle does not hold it.</summary>
        public void Unlock() => _lock.Release(checkFile: true);

        /// <summary>
        /// Blocks until <see cref="Version"/> differs from <paramref name="sinceVersion"/> and returns the new
        /// version. Fails with WaitTimeout, Removed, or <see cref="OperationCanceledException"/>.
        /// </summary>
        public long WaitForChange(long sinceVersion, TimeSpan timeout, CancellationToken cancellationToken)
        {
            using (_view.Enter())
            {
                return _channel.WaitForChange(sinceVersion, timeout, cancellationToken);
            }
        }

        /// <summary>
        /// Blocks until <see cref="Version"/> is greater than <paramref name="newerThan"/>, returning at once
        /// when it already is; returns the version. Take the version, start the writer, then wait for newer
        /// than it: no write can slip between. Fails with WaitTimeout, Removed, or <see cref="OperationCanceledException"/>.
        /// </summary>
        public long WaitForVersion(long newerThan, TimeSpan timeout, CancellationToken cancellationToken)
        {
            using (_view.Enter())
            {
                return _channel.WaitForVersion(newerThan, newerOnly: true, timeout, cancellationToken);
            }
        }

        /// <summary>
        /// The pending report of a lock holder that died with the lock: its process id, returned once to the
        /// first caller that asks, after which it is 0. A caller that can tell the user (a lock or a write)
        /// takes it; reads that took such a lock over leave it in the header for them.
        /// </summary>
        public int TakeAbandonedLockReport()
        {
            if (!_view.IsDisposed && _lock.NoReportAtLastTake())
            {
                // Nothing was pending when this handle took the lock: no need to enter the mapping.
                return 0;
            }

            using (_view.Enter())
            {
                return _lock.TakeAbandonedReport();
            }
        }

        /// <summary>Unmaps the segment and closes its file. Releases the lock if this handle holds it.</summary>
        public void Dispose()
        {
            lock (_view.Gate)
            {
                if (!_view.MarkDisposed())
                {
                    return;
                }

                _lock.ReleaseOnClose();

                // Waiters on other threads notice the closed handle at once; the mapping itself stays
                // until the last operation in flight ends (see SegmentView.Enter).
                _view.Close();
            }
        }

        /// <summary>Test hook: starts a write and calls <paramref name="midWrite"/> with the sequence odd.</summary>
        internal void WriteWithPause(byte[] payload, Action midWrite)
        {
            fixed (byte* source = payload)
            {
                var pausing = new PausingCopy { Source = source, Count = payload.Length, MidWrite = midWrite };
                SegmentView.Lease lease = _view.Enter();
                try
                {
                    _channel.Write(ref lease, SharedMemoryContentType.Bytes, null, false, DefaultLockTimeout, CancellationToken.None, ref pausing);
                }
                finally
                {
                    lease.Dispose();
                }
            }
        }

        private long Peek(Func<SegmentHeader, long> field)
        {
            using (_view.Enter())
            {
                return field(_view.Header);
            }
        }

        private sealed class LockRelease : IDisposable
        {
            private SharedMemorySegment? _segment;

            public LockRelease(SharedMemorySegment segment) => _segment = segment;

            public void Dispose() => Interlocked.Exchange(ref _segment, null)?.Unlock();
        }
    }
}
