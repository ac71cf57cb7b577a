using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// The segments of a scope by name: create, open, list and remove them (docs/segment-format.md,
    /// "Creation" and "Removal"). <see cref="SharedMemorySegment"/>'s static methods are its public face.
    /// </summary>
    internal static unsafe class SegmentCatalog
    {
        private static readonly int s_processId = Process.GetCurrentProcess().Id;

        private static int s_waitsForCreation;

        /// <summary>
        /// Waits of this process in <see cref="WaitForCreation"/> that have set their watch and found no segment
        /// yet: from then on they cannot miss its creation. Lets a test know that a wait has begun.
        /// </summary>
        internal static int WaitsForCreation => Volatile.Read(ref s_waitsForCreation);

        public static long LargestSize => IntPtr.Size == 4 ? int.MaxValue - SegmentLayout.HeaderSize : SharedMemorySegment.MaxSize;

        public static SharedMemorySegment Create(string name, long size, SharedMemoryOptions? options)
        {
            SegmentName.Validate(name);
            options ??= SharedMemoryOptions.Default;
            if (size < 1 || size > LargestSize)
            {
                throw SegmentErrors.InvalidSize(name, size, LargestSize);
            }

            int permissions = options.Permissions ?? (options.Scope == SharedMemoryScope.User ? 0x180 /* 0600 */ : 0x1B0 /* 0660 */);
            if (permissions < 0 || permissions > 0x1FF)
            {
                throw new ArgumentOutOfRangeException(nameof(options), permissions,
                    $"Permissions {Convert.ToString(permissions, 8)} are not valid Unix permission bits; use an octal value from 0 to 0777, such as 0600.");
            }

            bool queue = options.Kind == SharedMemorySegmentKind.Queue;
            if (queue)
            {
                if (options.Growable)
                {
                    throw new ArgumentException("A queue has a fixed size; it cannot be growable.", nameof(options));
                }

                // Records start at multiples of 8, and the smallest queue holds one empty message with room to spare.
                size = Math.Max(2 * SegmentLayout.RecordHeaderSize, (size + SegmentLayout.RecordAlignment - 1) & ~(long)(SegmentLayout.RecordAlignment - 1));
            }

            long maxSize = 0;
            if (options.Growable)
            {
                maxSize = options.MaximumSize ?? LargestSize;
                if (maxSize < size || maxSize > LargestSize)
                {
                    throw SegmentErrors.InvalidMaximumSize(name, size, maxSize, LargestSize);
                }
            }

            SegmentStore store = SegmentStore.For(options.Scope);
            SegmentMapping mapping;
            try
            {
                mapping = store.Create(name, SegmentLayout.HeaderSize + size, permissions,
                    m => new SegmentHeader(m.Base).Initialize(size, options.Scope, s_processId, maxSize, queue));
            }
            catch (NativeException e)
            {
                throw SegmentErrors.Translate(e, name, store, size);
            }

            return new SharedMemorySegment(new SegmentView(name, store, mapping));
        }

        public static SharedMemorySegment Open(string name, SharedMemoryScope scope)
        {
            SegmentName.Validate(name);
            SegmentStore store = SegmentStore.For(scope);
            SegmentMapping mapping;
            try
            {
                mapping = store.Open(name);
            }
            catch (NativeException e)
            {
                throw SegmentErrors.Translate(e, name, store, 0);
            }

            var view = new SegmentView(name, store, mapping);
            try
            {
                using (view.Enter())
                {
                    if (view.Header.Validate(mapping.Length - SegmentLayout.HeaderSize) is string damage)
                    {
                        throw SegmentErrors.Corrupted(name, damage);
                    }

                    if (view.Header.IsRemoved)
                    {
                        // Caught between another process marking it removed and unlinking it.
                        throw SegmentErrors.NotFound(name, scope);
                    }
                }

                return new SharedMemorySegment(view);
            }
            catch
            {
                lock (view.Gate)
                {
                    view.MarkDisposed();
                    view.Close();
                }

                throw;
            }
        }

        public static SharedMemorySegment OpenOrCreate(string name, long size, SharedMemoryOptions? options, out bool created)
        {
            SharedMemoryScope scope = (options ?? SharedMemoryOptions.Default).Scope;
            while (true)
            {
                try
                {
                    created = false;
                    return Open(name, scope);
                }
                catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.NotFound)
                {
                }

                try
                {
                    SharedMemorySegment segment = Create(name, size, options);
                    created = true;
                    return segment;
                }
                catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.AlreadyExists)
                {
                    // Another process created it first; open theirs.
                }
            }
        }

        /// <summary>
        /// Opens the segment, waiting for it to be created if it does not exist yet (docs/segment-format.md,
        /// "Waiting for a name"). The watch is set before every look, so a segment published between a look
        /// and the sleep that follows ends that sleep at once; every sleep is bounded by the watch's slice, so a
        /// missed notice costs latency, never a hang.
        /// </summary>
        public static SharedMemorySegment WaitForCreation(string name, SharedMemoryScope scope, TimeSpan timeout, CancellationToken cancellationToken, CreationWaitProbe? probe = null)
        {
            SegmentName.Validate(name);
            Deadline deadline = Deadline.After(timeout);
            SegmentStore store = SegmentStore.For(scope);
            StoreWatch watch;
            try
            {
                watch = store.WatchForCreation(name);
            }
            catch (NativeException e)
            {
                throw SegmentErrors.Translate(e, name, store, 0);
            }

            bool counted = false;
            try
            {
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    try
                    {
                        // Watch first, then look: a segment published after this look wakes the sleep below.
                        watch.Arm();
                        return Open(name, scope);
                    }
                    catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.NotFound)
                    {
                    }
                    catch (NativeException e)
                    {
                        throw SegmentErrors.Translate(e, name, store, 0);
                    }

                    if (!counted)
                    {
                        counted = true;
                        Interlocked.Increment(ref s_waitsForCreation);
                    }

                    probe?.Looked();
                    int remaining = deadline.RemainingMilliseconds;
                    if (remaining == 0)
                    {
                        throw SegmentErrors.CreationWaitTimeout(name, scope, timeout);
                    }

                    bool notified;
                    try
                    {
                        notified = watch.Sleep(Math.Min(remaining, probe?.SliceMilliseconds ?? watch.SliceMilliseconds), cancellationToken);
                    }
                    catch (NativeException e)
                    {
                        throw SegmentErrors.Translate(e, name, store, 0);
                    }

                    probe?.Woke(notified);
                }
            }
            finally
            {
                if (counted)
                {
                    Interlocked.Decrement(ref s_waitsForCreation);
                }

                watch.Dispose();
            }
        }

        public static bool Exists(string name, SharedMemoryScope scope)
        {
            SegmentName.Validate(name);
            SegmentStore store = SegmentStore.For(scope);
            try
            {
                return store.Exists(name);
            }
            catch (NativeException e)
            {
                throw SegmentErrors.Translate(e, name, store, 0);
            }
        }

        public static IReadOnlyList<SharedMemorySegmentInfo> List(string pattern, SharedMemoryScope scope)
        {
            var result = new List<SharedMemorySegmentInfo>();
            SegmentStore store = SegmentStore.For(scope);
            List<string> names;
            try
            {
                names = new List<string>(store.EnumerateNames());
            }
            catch (NativeException e)
            {
                throw SegmentErrors.Translate(e, pattern, store, 0);
            }

            foreach (string name in names)
            {
                if (!SegmentName.Matches(name, pattern))
                {
                    continue;
                }

                try
                {
                    using SharedMemorySegment segment = Open(name, scope);
                    result.Add(segment.GetInfo());
                }
                catch (SharedMemoryException e) when (IsDamage(e.Code))
                {
                    result.Add(SharedMemorySegmentInfo.Damaged(name, scope, e.Message));
                }
                catch (SharedMemoryException)
                {
                    // Removed meanwhile, or not this user's to read: not a segment to list.
                }
            }

            result.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            return result;
        }

        public static bool Remove(string name, SharedMemoryScope scope)
        {
            SegmentName.Validate(name);
            SegmentStore store = SegmentStore.For(scope);
            SegmentMapping? mapping = null;
            try
            {
                mapping = store.OpenForRemoval(name, out bool exists);
                if (!exists)
                {
                    return false;
                }

                if (mapping is not null && mapping.IsReadOnly)
                {
                    throw SegmentErrors.ReadOnly(name, "removed");
                }

                // Unlink first: if this user may not remove the name, nothing else changes. Then mark the
                // file that was open (not a segment created meanwhile under the same name) as removed.
                if (!store.Unlink(name))
                {
                    return false;
                }

                if (mapping is not null && mapping.CheckIntact() is null)
                {
                    var header = new SegmentHeader(mapping.Base);
                    if (header.Magic == SegmentLayout.Magic)
                    {
                        header.MarkRemoved(mapping);
                    }
                }

                return true;
            }
            catch (NativeException e)
            {
                throw SegmentErrors.Translate(e, name, store, 0);
            }
            finally
            {
                mapping?.Dispose();
            }
        }

        private static bool IsDamage(SharedMemoryErrorCode code) =>
            code == SharedMemoryErrorCode.Corrupted
            || code == SharedMemoryErrorCode.SymbolicLink
            || code == SharedMemoryErrorCode.WrongFileType
            || code == SharedMemoryErrorCode.WrongOwner;
    }
}
