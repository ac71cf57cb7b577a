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
    internal sealed unsafe class SegmentView
    {
        private int _disposed;

        public SegmentView(string name, SegmentStore store, SegmentMapping mapping)
        {
            Name = name;
            Store = store;
            Mapping = mapping;
            Header = new SegmentHeader(mapping.Base);
            Size = mapping.Length - SegmentLayout.HeaderSize;
        }

        public string Name { get; }

        public SegmentStore Store { get; }

        public SharedMemoryScope Scope => Store.Scope;

        public SegmentMapping Mapping { get; }

        public SegmentHeader Header { get; }

        /// <summary>The payload size the file holds, as mapped.</summary>
        public long Size { get; }

        /// <summary>Serialises lock ownership, closing and cancellation wake-ups of this handle.</summary>
        public object Gate { get; } = new object();

        public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

        public WaitWord ChangeWord => new WaitWord(Mapping, Header.ChangeWord);

        public WaitWord LockWord => new WaitWord(Mapping, Header.LockWord);

        /// <summary>Starts one operation: the mapping stays alive until the lease is disposed.</summary>
        public Lease Enter()
        {
            if (IsDisposed)
            {
                throw Closed();
            }

            Mapping.AddRef();
            try
            {
                CheckIntact();
            }
            catch
            {
                Mapping.Release();
                throw;
            }

            return new Lease(Mapping);
        }

        /// <summary>
        /// Fails with Corrupted when the file no longer backs the whole mapping (someone shrank it), instead
        /// of letting the next access fault. One fstat; a truncation after it and before the access can still
        /// fault, which .NET cannot catch (see "Trust model" in docs/segment-format.md).
        /// </summary>
        public void CheckIntact()
        {
            string? damage;
            try
            {
                damage = Mapping.CheckIntact();
            }
            catch (NativeException e)
            {
                throw SegmentErrors.Translate(e, Name, Store, Size);
            }

            if (damage is not null)
            {
                throw SegmentErrors.Corrupted(Name, damage);
            }
        }

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

        /// <summary>Wakes this handle's waiters on other threads, then releases the mapping once no lease remains.</summary>
        public void Close()
        {
            ChangeWord.WakeAllQuietly();
            LockWord.WakeAllQuietly();
            Mapping.Dispose();
        }

        private ObjectDisposedException Closed() =>
            new ObjectDisposedException(nameof(SharedMemorySegment), $"The handle to segment '{Name}' was closed.");

        /// <summary>Keeps the mapping alive for the length of one operation.</summary>
        public readonly struct Lease : IDisposable
        {
            private readonly SegmentMapping _mapping;

            public Lease(SegmentMapping mapping) => _mapping = mapping;

            public void Dispose() => _mapping.Release();
        }
    }
}
