using System;
using System.Collections.Generic;
using System.Threading;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// Where segments live: the local store (shared memory files on this machine,
    /// <see cref="LocalSharedMemoryStore"/>) or another one, such as a Redis server that several machines share.
    /// Creates, opens, lists, removes and waits for segments.
    /// </summary>
    public interface ISharedMemoryStore
    {
        /// <summary>
        /// The store as shown to users and remembered by segment objects: "Local" for the local store, a URI
        /// without its password for a server.
        /// </summary>
        string Location { get; }

        /// <summary>What tells this store's segments of a scope apart from any other store's, for caches of handles.</summary>
        string KeyFor(SharedMemoryScope scope);

        /// <summary>Creates a segment; fails with AlreadyExists when the name is taken.</summary>
        ISharedMemorySegment Create(string name, long size, SharedMemoryOptions options);

        /// <summary>Opens an existing segment; fails with NotFound when there is none.</summary>
        ISharedMemorySegment Open(string name, SharedMemoryScope scope);

        /// <summary>Opens the segment, or creates it; <paramref name="created"/> says which happened.</summary>
        ISharedMemorySegment OpenOrCreate(string name, long size, SharedMemoryOptions options, out bool created);

        /// <summary>True when the scope has something of that name.</summary>
        bool Exists(string name, SharedMemoryScope scope);

        /// <summary>The segments of a scope whose names match a wildcard pattern, sorted by name.</summary>
        IReadOnlyList<SharedMemorySegmentInfo> List(string pattern, SharedMemoryScope scope);

        /// <summary>Removes a segment and wakes its waiters; false when there was none.</summary>
        bool Remove(string name, SharedMemoryScope scope);

        /// <summary>Opens a segment, waiting for it to be created first when it does not exist yet.</summary>
        ISharedMemorySegment WaitForCreation(string name, SharedMemoryScope scope, TimeSpan timeout, CancellationToken cancellationToken);

        /// <summary>
        /// Blocks until any of <paramref name="segments"/> (all of this store) has a version greater than its
        /// entry of <paramref name="sinceVersions"/>, or was removed; false when the timeout passed first.
        /// </summary>
        bool TryWaitForAny(IReadOnlyList<ISharedMemorySegment> segments, IReadOnlyList<long> sinceVersions, TimeSpan timeout,
            CancellationToken cancellationToken, out IReadOnlyList<int> ready);
    }
}
