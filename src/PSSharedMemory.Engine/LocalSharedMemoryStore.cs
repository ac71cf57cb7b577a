using System;
using System.Collections.Generic;
using System.Threading;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// The local store: segments in shared memory files on this machine, in the directory of each scope
    /// (see <see cref="SharedMemorySegment.GetStoreDirectory"/>). Every call goes to <see cref="SharedMemorySegment"/>.
    /// </summary>
    public sealed class LocalSharedMemoryStore : ISharedMemoryStore
    {
        /// <summary>What <see cref="Location"/> says for the local store.</summary>
        public const string LocalLocation = "Local";

        private LocalSharedMemoryStore()
        {
        }

        /// <summary>The one local store.</summary>
        public static LocalSharedMemoryStore Instance { get; } = new LocalSharedMemoryStore();

        /// <inheritdoc />
        public string Location => LocalLocation;

        /// <inheritdoc />
        public string KeyFor(SharedMemoryScope scope) => SharedMemorySegment.GetStoreDirectory(scope);

        /// <inheritdoc />
        public ISharedMemorySegment Create(string name, long size, SharedMemoryOptions options) => SharedMemorySegment.Create(name, size, options);

        /// <inheritdoc />
        public ISharedMemorySegment Open(string name, SharedMemoryScope scope) => SharedMemorySegment.Open(name, scope);

        /// <inheritdoc />
        public ISharedMemorySegment OpenOrCreate(string name, long size, SharedMemoryOptions options, out bool created) =>
            SharedMemorySegment.OpenOrCreate(name, size, options, out created);

        /// <inheritdoc />
        public bool Exists(string name, SharedMemoryScope scope) => SharedMemorySegment.Exists(name, scope);

        /// <inheritdoc />
        public IReadOnlyList<SharedMemorySegmentInfo> List(string pattern, SharedMemoryScope scope) => SharedMemorySegment.List(pattern, scope);

        /// <inheritdoc />
        public bool Remove(string name, SharedMemoryScope scope) => SharedMemorySegment.Remove(name, scope);

        /// <inheritdoc />
        public ISharedMemorySegment WaitForCreation(string name, SharedMemoryScope scope, TimeSpan timeout, CancellationToken cancellationToken) =>
            SharedMemorySegment.WaitForCreation(name, scope, timeout, cancellationToken);

        /// <inheritdoc />
        public bool TryWaitForAny(IReadOnlyList<ISharedMemorySegment> segments, IReadOnlyList<long> sinceVersions, TimeSpan timeout,
            CancellationToken cancellationToken, out IReadOnlyList<int> ready)
        {
            if (segments is null)
            {
                throw new ArgumentNullException(nameof(segments));
            }

            var local = new SharedMemorySegment[segments.Count];
            for (int i = 0; i < local.Length; i++)
            {
                local[i] = segments[i] as SharedMemorySegment
                    ?? throw new ArgumentException($"Segment {i} of the list is not in the local store.", nameof(segments));
            }

            return SharedMemorySegment.TryWaitForAny(local, sinceVersions, timeout, cancellationToken, out ready);
        }
    }
}
