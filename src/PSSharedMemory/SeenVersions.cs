using System.Runtime.CompilerServices;
using PSSharedMemory.Engine;

namespace PSSharedMemory
{
    /// <summary>
    /// The latest Version each handle (so each session) has read or written, or Wait-SharedMemory has
    /// returned or waited past. Read-SharedMemory -Wait and Wait-SharedMemory wait for a version newer than
    /// that, so a loop of waits never misses a write that landed between two of its calls.
    /// </summary>
    internal static class SeenVersions
    {
        private static readonly ConditionalWeakTable<ISharedMemorySegment, StrongBox<long>> s_seen = new ConditionalWeakTable<ISharedMemorySegment, StrongBox<long>>();

        public static void Record(ISharedMemorySegment segment, long version)
        {
            StrongBox<long> box = s_seen.GetValue(segment, _ => new StrongBox<long>(version));
            lock (box)
            {
                if (version > box.Value)
                {
                    box.Value = version;
                }
            }
        }

        /// <summary>
        /// The version to wait past, as <see cref="WaitFrom"/>, and when this session has seen none, the current
        /// one is kept as seen: the next wait waits past it too, so a write between two waits of a loop that
        /// did not read this segment is not missed (Wait-SharedMemory).
        /// </summary>
        public static long Baseline(ISharedMemorySegment segment)
        {
            StrongBox<long> box = s_seen.GetValue(segment, s => new StrongBox<long>(s.Version));
            lock (box)
            {
                return box.Value;
            }
        }

        /// <summary>The version to wait past: the latest this session has seen, or the current one if it has seen none.</summary>
        public static long WaitFrom(ISharedMemorySegment segment) =>
            s_seen.TryGetValue(segment, out StrongBox<long>? box) ? box.Value : segment.Version;
    }
}
