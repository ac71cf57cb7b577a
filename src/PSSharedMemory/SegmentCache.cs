using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Management.Automation.Runspaces;
using PSSharedMemory.Engine;

namespace PSSharedMemory
{
    /// <summary>
    /// The open segment handles of this process, one per (runspace, scope, name). Repeated calls reuse a
    /// mapping instead of reopening it. The engine's lock belongs to a handle, so giving every runspace its
    /// own handle is what makes two runspaces exclude each other, and what keeps a lock taken by
    /// Lock-SharedMemory alive until Unlock-SharedMemory in the same runspace.
    /// </summary>
    internal static class SegmentCache
    {
        private static readonly ConcurrentDictionary<Key, SharedMemorySegment> s_handles = new ConcurrentDictionary<Key, SharedMemorySegment>();
        private static readonly ConcurrentDictionary<Guid, Runspace> s_watchedRunspaces = new ConcurrentDictionary<Guid, Runspace>();

        /// <summary>The handle of an existing segment; throws NotFound (or Corrupted, PermissionDenied) otherwise.</summary>
        public static SharedMemorySegment Open(string name, SharedMemoryScope scope)
        {
            Key key = new Key(CurrentRunspaceId(), scope, name);
            if (s_handles.TryGetValue(key, out SharedMemorySegment? cached))
            {
                if (!cached.IsRemoved && !cached.IsDisposed)
                {
                    return cached;
                }

                Drop(key, cached);
            }

            return Add(key, SharedMemorySegment.Open(name, scope));
        }

        /// <summary>The handle of the segment, created with <paramref name="capacityIfNew"/> when none exists.</summary>
        public static SharedMemorySegment OpenOrCreate(string name, SharedMemoryScope scope, long capacityIfNew, out bool created)
        {
            created = false;
            Key key = new Key(CurrentRunspaceId(), scope, name);
            if (s_handles.TryGetValue(key, out SharedMemorySegment? cached))
            {
                if (!cached.IsRemoved && !cached.IsDisposed)
                {
                    return cached;
                }

                Drop(key, cached);
            }

            while (true)
            {
                if (SharedMemorySegment.TryOpen(name, out SharedMemorySegment? existing, scope))
                {
                    return Add(key, existing!);
                }

                try
                {
                    SharedMemorySegment segment = SharedMemorySegment.Create(name, capacityIfNew, new SharedMemoryOptions { Scope = scope });
                    created = true;
                    return Add(key, segment);
                }
                catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.AlreadyExists)
                {
                    // Another process created it between our open and create; open theirs.
                }
            }
        }

        /// <summary>The cached handle when it is still usable; no system call.</summary>
        public static bool TryGetUsable(string name, SharedMemoryScope scope, out SharedMemorySegment? segment)
        {
            if (s_handles.TryGetValue(new Key(CurrentRunspaceId(), scope, name), out segment) && !segment.IsRemoved && !segment.IsDisposed)
            {
                return true;
            }

            segment = null;
            return false;
        }

        /// <summary>Keeps a handle the caller just created or opened, and returns the one in the cache.</summary>
        public static SharedMemorySegment Add(SharedMemorySegment segment) =>
            Add(new Key(CurrentRunspaceId(), segment.Scope, segment.Name), segment);

        /// <summary>The cached handle, whatever its state, without opening anything.</summary>
        public static bool TryGetCached(string name, SharedMemoryScope scope, out SharedMemorySegment? segment) =>
            s_handles.TryGetValue(new Key(CurrentRunspaceId(), scope, name), out segment);

        /// <summary>Forgets and closes a handle that turned out to be removed.</summary>
        public static void Evict(SharedMemorySegment segment) =>
            Drop(new Key(CurrentRunspaceId(), segment.Scope, segment.Name), segment);

        /// <summary>Closes the handles of the current runspace, releasing any lock they hold.</summary>
        public static void ReleaseCurrentRunspace() => ReleaseRunspace(CurrentRunspaceId());

        /// <summary>Closes every handle of the process.</summary>
        public static void ReleaseAll()
        {
            foreach (KeyValuePair<Key, SharedMemorySegment> entry in s_handles)
            {
                Drop(entry.Key, entry.Value);
            }
        }

        private static void ReleaseRunspace(Guid runspaceId)
        {
            foreach (KeyValuePair<Key, SharedMemorySegment> entry in s_handles)
            {
                if (entry.Key.RunspaceId == runspaceId)
                {
                    Drop(entry.Key, entry.Value);
                }
            }
        }

        private static SharedMemorySegment Add(Key key, SharedMemorySegment segment)
        {
            while (true)
            {
                if (s_handles.TryAdd(key, segment))
                {
                    WatchRunspace(key.RunspaceId);
                    return segment;
                }

                if (s_handles.TryGetValue(key, out SharedMemorySegment? other) && !ReferenceEquals(other, segment))
                {
                    if (!other.IsRemoved && !other.IsDisposed)
                    {
                        // Another thread of the same runspace won the race; use its handle.
                        segment.Dispose();
                        return other;
                    }

                    Drop(key, other);
                }
            }
        }

        private static void Drop(Key key, SharedMemorySegment segment)
        {
            if (((ICollection<KeyValuePair<Key, SharedMemorySegment>>)s_handles).Remove(new KeyValuePair<Key, SharedMemorySegment>(key, segment)))
            {
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
            }
        }

        private readonly struct Key : IEquatable<Key>
        {
            public Key(Guid runspaceId, SharedMemoryScope scope, string name)
            {
                RunspaceId = runspaceId;
                Scope = scope;
                Name = name;
            }

            public Guid RunspaceId { get; }

            public SharedMemoryScope Scope { get; }

            public string Name { get; }

            public bool Equals(Key other) => RunspaceId == other.RunspaceId && Scope == other.Scope && string.Equals(Name, other.Name, StringComparison.Ordinal);

            public override bool Equals(object? obj) => obj is Key other && Equals(other);

            public override int GetHashCode() => unchecked((RunspaceId.GetHashCode() * 397) ^ ((int)Scope * 31) ^ StringComparer.Ordinal.GetHashCode(Name));
        }
    }
}
