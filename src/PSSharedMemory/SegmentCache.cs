using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Management.Automation.Runspaces;
using System.Threading;
using PSSharedMemory.Engine;

namespace PSSharedMemory
{
    /// <summary>
    /// The open segment handles of this process, one per (runspace, store, name). Repeated calls
    /// reuse a mapping instead of reopening it. The engine's lock belongs to a handle, so giving every
    /// runspace its own handle is what makes two runspaces exclude each other, and what keeps a lock taken by
    /// Lock-SharedMemory alive until Unlock-SharedMemory in the same runspace.
    /// </summary>
    /// <remarks>
    /// Bounded: above <see cref="MaxHandlesPerRunspace"/> handles in a runspace, the least recently used
    /// ones are closed, except those whose lock the runspace holds. Before a handle is reused it is checked
    /// against the file its name leads to now, so a segment deleted or replaced underneath (by a cleaner, or
    /// by logind's RemoveIPC) is opened afresh instead of read from an orphaned file. The key includes the
    /// store (a local directory, or a server and its key prefix), so a changed PSSHAREDMEMORY_STORE takes
    /// effect on the next command.
    /// </remarks>
    internal static class SegmentCache
    {
        /// <summary>Open handles a runspace keeps; each is a file descriptor and a mapping.</summary>
        internal const int MaxHandlesPerRunspace = 256;

        // Handles are closed down to this many when the limit is passed, so eviction scans are rare.
        private const int TrimTarget = MaxHandlesPerRunspace * 3 / 4;

        private static readonly ConcurrentDictionary<Key, Entry> s_handles = new ConcurrentDictionary<Key, Entry>();
        private static readonly ConcurrentDictionary<Guid, Runspace> s_watchedRunspaces = new ConcurrentDictionary<Guid, Runspace>();
        private static readonly ConcurrentDictionary<Guid, StrongCounter> s_counts = new ConcurrentDictionary<Guid, StrongCounter>();
        private static long s_clock;

        /// <summary>The handle of an existing segment; throws NotFound (or Corrupted, PermissionDenied) otherwise.</summary>
        public static ISharedMemorySegment Open(ISharedMemoryStore store, string name, SharedMemoryScope scope)
        {
            Key key = KeyOf(store, name, scope);
            if (TryReuse(key, out ISharedMemorySegment? cached))
            {
                return cached!;
            }

            return Add(key, store.Open(name, scope));
        }

        /// <summary>The handle of the segment, created with <paramref name="sizeIfNew"/> when none exists.</summary>
        public static ISharedMemorySegment OpenOrCreate(ISharedMemoryStore store, string name, SharedMemoryScope scope, long sizeIfNew, out bool created)
        {
            created = false;
            Key key = KeyOf(store, name, scope);
            if (TryReuse(key, out ISharedMemorySegment? cached))
            {
                return cached!;
            }

            ISharedMemorySegment segment = store.OpenOrCreate(name, sizeIfNew, new SharedMemoryOptions { Scope = scope, Growable = true }, out created);
            return Add(key, segment);
        }

        /// <summary>
        /// The handle of the segment, created as a queue of <paramref name="sizeIfNew"/> bytes when none exists.
        /// An existing segment is returned whatever its kind: sending to a value segment then fails with WrongKind.
        /// </summary>
        public static ISharedMemorySegment OpenOrCreateQueue(ISharedMemoryStore store, string name, SharedMemoryScope scope, long sizeIfNew, out bool created)
        {
            created = false;
            Key key = KeyOf(store, name, scope);
            if (TryReuse(key, out ISharedMemorySegment? cached))
            {
                return cached!;
            }

            ISharedMemorySegment segment = store.OpenOrCreate(name, sizeIfNew, new SharedMemoryOptions { Scope = scope, Kind = SharedMemorySegmentKind.Queue }, out created);
            return Add(key, segment);
        }

        /// <summary>The cached handle when it is still the segment its name leads to.</summary>
        public static bool TryGetUsable(ISharedMemoryStore store, string name, SharedMemoryScope scope, out ISharedMemorySegment? segment) =>
            TryReuse(KeyOf(store, name, scope), out segment);

        /// <summary>Keeps a handle the caller just created or opened, and returns the one in the cache.</summary>
        public static ISharedMemorySegment Add(ISharedMemorySegment segment) =>
            Add(KeyOf(segment), segment);

        /// <summary>The cached handle, whatever its state, without opening anything.</summary>
        public static bool TryGetCached(ISharedMemoryStore store, string name, SharedMemoryScope scope, out ISharedMemorySegment? segment)
        {
            if (s_handles.TryGetValue(KeyOf(store, name, scope), out Entry? entry))
            {
                segment = entry.Segment;
                return true;
            }

            segment = null;
            return false;
        }

        /// <summary>Forgets and closes a handle that turned out to be removed.</summary>
        public static void Evict(ISharedMemorySegment segment) =>
            Drop(KeyOf(segment), segment);

        /// <summary>Closes the handles of the current runspace, releasing any lock they hold.</summary>
        public static void ReleaseCurrentRunspace() => ReleaseRunspace(CurrentRunspaceId());

        /// <summary>Closes every handle of the process, then its connections to server stores.</summary>
        public static void ReleaseAll()
        {
            foreach (KeyValuePair<Key, Entry> entry in s_handles)
            {
                Drop(entry.Key, entry.Value.Segment);
            }

            StoreSelector.CloseAll();
        }

        /// <summary>Handles the current runspace keeps open (for tests and diagnostics).</summary>
        internal static int CountForCurrentRunspace() =>
            s_counts.TryGetValue(CurrentRunspaceId(), out StrongCounter? counter) ? Volatile.Read(ref counter.Value) : 0;

        private static Key KeyOf(ISharedMemoryStore store, string name, SharedMemoryScope scope) =>
            new Key(CurrentRunspaceId(), store.KeyFor(scope), name);

        // A local handle is keyed by the directory it was opened in, even after PSSHAREDMEMORY_STORE changed.
        private static Key KeyOf(ISharedMemorySegment segment) =>
            new Key(CurrentRunspaceId(), segment is SharedMemorySegment local ? local.StoreDirectory : segment.Store.KeyFor(segment.Scope), segment.Name);

        private static bool TryReuse(Key key, out ISharedMemorySegment? segment)
        {
            if (s_handles.TryGetValue(key, out Entry? entry))
            {
                if (IsCurrent(entry.Segment))
                {
                    entry.LastUsed = Interlocked.Increment(ref s_clock);
                    segment = entry.Segment;
                    return true;
                }

                Drop(key, entry.Segment);
            }

            segment = null;
            return false;
        }

        /// <summary>Open, not removed, and still the file its name leads to. A handle that cannot tell is not reused.</summary>
        private static bool IsCurrent(ISharedMemorySegment segment)
        {
            if (segment.IsDisposed)
            {
                return false;
            }

            try
            {
                return !segment.IsOrphaned();
            }
            catch (Exception e) when (e is SharedMemoryException || e is ObjectDisposedException)
            {
                // Cut short, or closed meanwhile: open the name again, which reports what is wrong with it.
                return false;
            }
        }

        private static void ReleaseRunspace(Guid runspaceId)
        {
            foreach (KeyValuePair<Key, Entry> entry in s_handles)
            {
                if (entry.Key.RunspaceId == runspaceId)
                {
                    Drop(entry.Key, entry.Value.Segment);
                }
            }
        }

        private static ISharedMemorySegment Add(Key key, ISharedMemorySegment segment)
        {
            var entry = new Entry(segment, Interlocked.Increment(ref s_clock));
            while (true)
            {
                if (s_handles.TryAdd(key, entry))
                {
                    WatchRunspace(key.RunspaceId);
                    StrongCounter counter = s_counts.GetOrAdd(key.RunspaceId, _ => new StrongCounter());
                    if (Interlocked.Increment(ref counter.Value) > MaxHandlesPerRunspace)
                    {
                        Trim(key.RunspaceId, segment);
                    }

                    return segment;
                }

                if (s_handles.TryGetValue(key, out Entry? other) && !ReferenceEquals(other.Segment, segment))
                {
                    if (IsCurrent(other.Segment))
                    {
                        // Another thread of the same runspace won the race; use its handle.
                        segment.Dispose();
                        other.LastUsed = Interlocked.Increment(ref s_clock);
                        return other.Segment;
                    }

                    Drop(key, other.Segment);
                }
            }
        }

        /// <summary>
        /// Closes the runspace's least recently used handles down to <see cref="TrimTarget"/>: first those of
        /// segments found removed, then the oldest. Never one whose lock is held, nor the one just added.
        /// </summary>
        private static void Trim(Guid runspaceId, ISharedMemorySegment keep)
        {
            var candidates = new List<KeyValuePair<Key, Entry>>();
            foreach (KeyValuePair<Key, Entry> pair in s_handles)
            {
                if (pair.Key.RunspaceId == runspaceId && !ReferenceEquals(pair.Value.Segment, keep) && !pair.Value.Segment.IsLockHeld)
                {
                    candidates.Add(pair);
                }
            }

            int excess = (s_counts.TryGetValue(runspaceId, out StrongCounter? counter) ? Volatile.Read(ref counter.Value) : 0) - TrimTarget;
            foreach (KeyValuePair<Key, Entry> pair in candidates)
            {
                if (excess > 0 && IsRemovedQuietly(pair.Value.Segment))
                {
                    Drop(pair.Key, pair.Value.Segment);
                    excess--;
                }
            }

            candidates.Sort((a, b) => a.Value.LastUsed.CompareTo(b.Value.LastUsed));
            foreach (KeyValuePair<Key, Entry> pair in candidates)
            {
                if (excess <= 0)
                {
                    break;
                }

                if (!pair.Value.Segment.IsDisposed && !pair.Value.Segment.IsLockHeld)
                {
                    Drop(pair.Key, pair.Value.Segment);
                    excess--;
                }
            }
        }

        private static bool IsRemovedQuietly(ISharedMemorySegment segment)
        {
            try
            {
                return segment.IsDisposed || segment.IsRemoved;
            }
            catch (Exception e) when (e is SharedMemoryException || e is ObjectDisposedException)
            {
                return true;
            }
        }

        private static void Drop(Key key, ISharedMemorySegment segment)
        {
            if (s_handles.TryGetValue(key, out Entry? entry)
                && ReferenceEquals(entry.Segment, segment)
                && ((ICollection<KeyValuePair<Key, Entry>>)s_handles).Remove(new KeyValuePair<Key, Entry>(key, entry)))
            {
                if (s_counts.TryGetValue(key.RunspaceId, out StrongCounter? counter))
                {
                    Interlocked.Decrement(ref counter.Value);
                }

                segment.Dispose();
            }
        }

        private static Guid CurrentRunspaceId() => Runspace.DefaultRunspace?.InstanceId ?? Guid.Empty;

        private static void WatchRunspace(Guid runspaceId)
        {
            Runspace? runspace = Runspace.DefaultRunspace;
            if (runspace is null || runspace.InstanceId != runspaceId || s_watchedRunspaces.ContainsKey(runspaceId))
            {
                return;
            }

            if (s_watchedRunspaces.TryAdd(runspaceId, runspace))
            {
                runspace.StateChanged += OnRunspaceStateChanged;
            }
        }

        private static void OnRunspaceStateChanged(object? sender, RunspaceStateEventArgs e)
        {
            RunspaceState state = e.RunspaceStateInfo.State;
            if (sender is Runspace runspace && (state == RunspaceState.Closed || state == RunspaceState.Broken))
            {
                runspace.StateChanged -= OnRunspaceStateChanged;
                s_watchedRunspaces.TryRemove(runspace.InstanceId, out _);
                ReleaseRunspace(runspace.InstanceId);
                s_counts.TryRemove(runspace.InstanceId, out _);
            }
        }

        private sealed class Entry
        {
            public Entry(ISharedMemorySegment segment, long lastUsed)
            {
                Segment = segment;
                LastUsed = lastUsed;
            }

            public ISharedMemorySegment Segment { get; }

            public long LastUsed;
        }

        private sealed class StrongCounter
        {
            public int Value;
        }

        private readonly struct Key : IEquatable<Key>
        {
            public Key(Guid runspaceId, string storeDirectory, string name)
            {
                RunspaceId = runspaceId;
                StoreDirectory = storeDirectory;
                Name = name;
            }

            public Guid RunspaceId { get; }

            public string StoreDirectory { get; }

            public string Name { get; }

            public bool Equals(Key other) =>
                RunspaceId == other.RunspaceId
                && string.Equals(StoreDirectory, other.StoreDirectory, StringComparison.Ordinal)
                && string.Equals(Name, other.Name, StringComparison.Ordinal);

            public override bool Equals(object? obj) => obj is Key other && Equals(other);

            public override int GetHashCode() =>
                unchecked((RunspaceId.GetHashCode() * 397) ^ (StringComparer.Ordinal.GetHashCode(StoreDirectory) * 31) ^ StringComparer.Ordinal.GetHashCode(Name));
        }
    }
}
