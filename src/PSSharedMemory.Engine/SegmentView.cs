using System;
using System.Threading;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// One open handle's view of a segment: its name and store, the mapping and its header, and the
    /// rules for touching them safely. Every access is made inside a lease (<see cref="Enter"/>), which
    /// keeps the mapping alive even across a Dispose on another thread and first checks that the file
    /// still backs the whole mapping; a handle that is closed or removed is refused.
    /// </summary>
    /// <remarks>
    /// The header is always reached through the handle's first mapping, which never changes. The payload
    /// is reached through the lease's <see cref="MappedRegion"/>: for a fixed segment that is the first
    /// mapping too; a growable segment maps its file again when it grows (here or in another process,
    /// which the header's size tells), and a replaced region stays mapped until the last lease on it ends.
    /// </remarks>
    internal sealed unsafe partial class SegmentView
    {
        private readonly object _regionGate = new object();
        private MappedRegion _region;
        private int _disposed;

        public SegmentView(string name, SegmentStore store, SegmentMapping mapping)
        {
            Name = name;
            Store = store;
            Mapping = mapping;
            Header = new SegmentHeader(mapping.Base);
            _region = new MappedRegion(mapping.Base, mapping.Length, null, null);
            IsGrowable = Header.IsGrowable;
            IsQueue = Header.IsQueue;
        }

        public string Name { get; }

        public SegmentStore Store { get; }

        public SharedMemoryScope Scope => Store.Scope;

        public SegmentMapping Mapping { get; }

        public SegmentHeader Header { get; }

        /// <summary>Layout 2: the size may grow. Fixed when the segment is created.</summary>
        public bool IsGrowable { get; }

        /// <summary>Layout 3: a queue of messages. Fixed when the segment is created.</summary>
        public bool IsQueue { get; }

        /// <summary>
        /// The payload's size now: the most a write may store without growing. For a fixed segment, what
        /// the file holds as mapped; for a growable one, the header's size, which another process may raise.
        /// </summary>
        public long Size => IsGrowable ? Volatile.Read(ref Header.Size) : Volatile.Read(ref _region).Size;

        /// <summary>The most a write may store: <see cref="Size"/>, or for a growable segment the size it may grow to.</summary>
        public long MaxSize => IsGrowable ? Header.MaxSize : Size;

        /// <summary>Serialises lock ownership, closing and cancellation wake-ups of this handle.</summary>
        public object Gate { get; } = new object();

        public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

        public WaitWord ChangeWord => new WaitWord(Mapping, Header.ChangeWord);

        public WaitWord LockWord => new WaitWord(Mapping, Header.LockWord);

        /// <summary>
        /// Starts one operation: the mapping, and the region the lease carries, stay alive until the lease is
        /// disposed. A growable segment that another process grew is mapped again first.
        /// </summary>
        public Lease Enter() => EnterChecking(check: true);

        /// <summary>
        /// <see cref="Enter()"/> without the check that the file still backs the mapping: for a caller that
        /// makes that check itself (<see cref="CheckIntact(MappedRegion)"/>), or learns it otherwise, before
        /// it touches the mapping.
        /// </summary>
        public Lease EnterUnchecked() => EnterChecking(check: false);

        private Lease EnterChecking(bool check)
        {
            if (IsDisposed)
            {
                throw Closed();
            }

            Mapping.AddRef();
            MappedRegion? region = null;
            try
            {
                region = TakeRegion();
                if (check && !TakeVouch(region))
                {
                    CheckIntact(region);
                }
            }
            catch
            {
                region?.Release();
                Mapping.Release();
                throw;
            }

            return new Lease(Mapping, region);
        }

        private MappedRegion TakeRegion()
        {
            while (true)
            {
                MappedRegion region = Volatile.Read(ref _region);
                if (IsGrowable && Volatile.Read(ref Header.Size) > region.Size)
                {
                    region = Refresh();
                }

                if (region.TryAddRef())
                {
                    return region;
                }

                // Replaced and unmapped between the read and the reference: take the new one.
                if (IsDisposed)
                {
                    throw Closed();
                }
            }
        }

        /// <summary>Test hook: called inside a grow, after the file is lengthened ("extended") and after the header's size is raised ("resized").</summary>
        internal static Action<string>? GrowthPausePoint;

        /// <summary>The smallest size a growable segment grows to.</summary>
        public const long MinimumGrowableSize = 4096;

        /// <summary>Refuses a closed or removed handle. Callers hold a lease.</summary>
        public void ThrowIfUnusable()
        {
            if (IsDisposed)
            {
                throw Closed();
            }

            if (Header.IsRemoved)
            {
                throw SegmentErrors.Removed(Name);
            }
        }

        public void ThrowIfReadOnly(string action)
        {
            if (Mapping.IsReadOnly)
            {
                throw SegmentErrors.ReadOnly(Name, action);
            }
        }

        public SharedMemoryException Translate(NativeException e) => SegmentErrors.Translate(e, Name, Store, Size);

        /// <summary>Marks the handle closed; true for the first caller only. Callers hold <see cref="Gate"/>.</summary>
        public bool MarkDisposed() => Interlocked.Exchange(ref _disposed, 1) == 0;

        /// <summary>
        /// Calls <paramref name="listener"/> when the handle closes, or at once when it already has: how a wait
        /// that sleeps on more than this handle's words learns of the close. Calls run under <see cref="Gate"/>,
        /// so a listener must not take another handle's gate.
        /// </summary>
        public void AddCloseListener(Action listener)
        {
            lock (Gate)
            {
                if (IsDisposed)
                {
                    listener();
                    return;
                }

                _closeListeners += listener;
            }
        }

        public void RemoveCloseListener(Action listener)
        {
            lock (Gate)
            {
                _closeListeners -= listener;
            }
        }

        private Action? _closeListeners;

        /// <summary>Wakes this handle's waiters on other threads, then releases the mappings once no lease remains. The caller holds <see cref="Gate"/>.</summary>
        public void Close()
        {
            _closeListeners?.Invoke();
            _closeListeners = null;
            ChangeWord.WakeAllQuietly();
            LockWord.WakeAllQuietly();
            lock (_regionGate)
            {
                _region.Retire();
            }

            Mapping.Dispose();
        }

        private ObjectDisposedException Closed() =>
            new ObjectDisposedException(nameof(SharedMemorySegment), $"The handle to segment '{Name}' was closed.");

        /// <summary>Keeps the mapping and one payload region alive for the length of one operation.</summary>
        public struct Lease : IDisposable
        {
            private readonly SegmentMapping _mapping;

            public Lease(SegmentMapping mapping, MappedRegion region)
            {
                _mapping = mapping;
                Region = region;
            }

            /// <summary>The region through which this operation reaches the payload.</summary>
            public MappedRegion Region { get; private set; }

            /// <summary>Moves to <paramref name="region"/>, which the caller referenced, releasing the old one.</summary>
            public void Move(MappedRegion region)
            {
                MappedRegion old = Region;
                Region = region;
                old.Release();
            }

            public void Dispose()
            {
                Region.Release();
                _mapping.Release();
            }
        }
    }
}
