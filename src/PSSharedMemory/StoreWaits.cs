using System;
using System.Collections.Generic;
using System.Threading;
using PSSharedMemory.Engine;

namespace PSSharedMemory
{
    /// <summary>
    /// A wait on segments that may be in different stores: one wait of the store when they share it, otherwise
    /// short waits of each store in turn.
    /// </summary>
    internal static class StoreWaits
    {
        /// <summary>How long each store is waited on in turn when the segments are in several stores.</summary>
        private static readonly TimeSpan s_slice = TimeSpan.FromMilliseconds(50);

        /// <summary>As <see cref="ISharedMemoryStore.TryWaitForAny"/>, for segments of any stores.</summary>
        public static bool TryWaitForAny(IReadOnlyList<ISharedMemorySegment> segments, IReadOnlyList<long> since, TimeSpan timeout,
            CancellationToken cancellationToken, out IReadOnlyList<int> ready)
        {
            ISharedMemoryStore first = segments[0].Store;
            var groups = new Dictionary<ISharedMemoryStore, List<int>>();
            for (int i = 0; i < segments.Count; i++)
            {
                ISharedMemoryStore store = segments[i].Store;
                if (!groups.TryGetValue(store, out List<int>? indices))
                {
                    groups[store] = indices = new List<int>();
                }

                indices.Add(i);
            }

            if (groups.Count == 1)
            {
                return first.TryWaitForAny(segments, since, timeout, cancellationToken, out ready);
            }

            Deadline deadline = Deadline.After(timeout);
            while (true)
            {
                foreach (KeyValuePair<ISharedMemoryStore, List<int>> group in groups)
                {
                    var part = new ISharedMemorySegment[group.Value.Count];
                    var partSince = new long[group.Value.Count];
                    for (int i = 0; i < part.Length; i++)
                    {
                        part[i] = segments[group.Value[i]];
                        partSince[i] = since[group.Value[i]];
                    }

                    TimeSpan slice = deadline.IsInfinite || deadline.Remaining > s_slice ? s_slice : deadline.Remaining;
                    if (group.Key.TryWaitForAny(part, partSince, slice, cancellationToken, out IReadOnlyList<int> found))
                    {
                        var indices = new List<int>(found.Count);
                        foreach (int index in found)
                        {
                            indices.Add(group.Value[index]);
                        }

                        indices.Sort();
                        ready = indices;
                        return true;
                    }
                }

                if (deadline.HasPassed)
                {
                    ready = Array.Empty<int>();
                    return false;
                }
            }
        }
    }
}
