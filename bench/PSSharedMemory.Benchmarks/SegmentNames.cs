using System;
using System.Diagnostics;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Benchmarks
{
    internal static class SegmentNames
    {
        /// <summary>A name no other run or process uses: removed segments never collide with live ones.</summary>
        public static string Unique(string purpose) =>
            $"bench-{purpose}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N").Substring(0, 8)}";

        /// <summary>Creates a segment and touches every payload page, so the benchmarks see mapped memory, not page faults.</summary>
        public static SharedMemorySegment CreateTouched(string name, long capacity, SharedMemoryOptions? options = null)
        {
            SharedMemorySegment segment = SharedMemorySegment.Create(name, capacity, options);
            var filler = new byte[(int)Math.Min(capacity, 1 << 20)];
            new Random(1).NextBytes(filler);
            long done = 0;
            using (segment.Lock(SharedMemorySegment.DefaultLockTimeout))
            {
                // Whole-capacity writes in 1 MiB pieces would overwrite one another; write the full
                // size through the API once below, and fault the pages in here through the mapping.
                unsafe
                {
                    byte* payload = segment.Mapping.Base + SegmentLayout.HeaderSize;
                    while (done < capacity)
                    {
                        int chunk = (int)Math.Min(filler.Length, capacity - done);
                        fixed (byte* source = filler)
                        {
                            Buffer.MemoryCopy(source, payload + done, chunk, chunk);
                        }

                        done += chunk;
                    }
                }
            }

            Debug.Assert(done == capacity);
            return segment;
        }
    }
}
