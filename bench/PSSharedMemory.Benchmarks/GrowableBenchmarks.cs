using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Benchmarks
{
    /// <summary>
    /// What growth costs a write that does not grow: the same Write+Read round trip on a segment of fixed
    /// size (layout 1, the baseline) and on a growable one (layout 2) that already has room. And what one
    /// grow costs: a write twice as large as the segment, into a fresh growable segment each time.
    /// </summary>
    [MemoryDiagnoser]
    public class GrowableBenchmarks
    {
        private byte[] _payload = Array.Empty<byte>();
        private byte[] _readBuffer = Array.Empty<byte>();
        private SharedMemorySegment? _fixed;
        private SharedMemorySegment? _growable;
        private string _fixedName = string.Empty;
        private string _growableName = string.Empty;

        public static IEnumerable<int> Sizes()
        {
            yield return 64;
            yield return 64 * 1024;
            yield return 1024 * 1024;
        }

        [ParamsSource(nameof(Sizes))]
        public int Size { get; set; }

        [GlobalSetup]
        public void Setup()
        {
            _payload = new byte[Size];
            new Random(42).NextBytes(_payload);
            _readBuffer = new byte[Size];
            _fixedName = SegmentNames.Unique("fixed");
            _growableName = SegmentNames.Unique("growable");
            _fixed = SegmentNames.CreateTouched(_fixedName, Size);
            _growable = SegmentNames.CreateTouched(_growableName, Size, new SharedMemoryOptions { Growable = true });
            _fixed.Write(_payload, SharedMemoryContentType.Bytes);
            _growable.Write(_payload, SharedMemoryContentType.Bytes);
            if (_growable.Size != Size)
            {
                throw new InvalidOperationException("The growable segment grew during setup; the comparison would not be like for like.");
            }
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            _fixed?.Dispose();
            _growable?.Dispose();
            SharedMemorySegment.Remove(_fixedName);
            SharedMemorySegment.Remove(_growableName);
        }

        [Benchmark(Baseline = true, Description = "Write+ReadInto, fixed size")]
        public long FixedWriteRead()
        {
            _fixed!.Write(_payload, 0, Size, SharedMemoryContentType.Bytes, SharedMemorySegment.DefaultLockTimeout, default);
            return _fixed.Read(_readBuffer, 0, SharedMemorySegment.DefaultLockTimeout, default, out _, out _);
        }

        [Benchmark(Description = "Write+ReadInto, growable, no grow")]
        public long GrowableWriteRead()
        {
            _growable!.Write(_payload, 0, Size, SharedMemoryContentType.Bytes, SharedMemorySegment.DefaultLockTimeout, default);
            return _growable.Read(_readBuffer, 0, SharedMemorySegment.DefaultLockTimeout, default, out _, out _);
        }

        /// <summary>Create a growable segment of half the payload, then write the payload: one grow, one write.</summary>
        [Benchmark(Description = "Create(size/2, growable) + Write that grows")]
        public long CreateAndGrow()
        {
            string name = SegmentNames.Unique("grow");
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, Math.Max(1, Size / 2), new SharedMemoryOptions { Growable = true });
            long version = segment.Write(_payload, SharedMemoryContentType.Bytes);
            SharedMemorySegment.Remove(name);
            return version;
        }

        /// <summary>The same without the grow: create at full size, then write.</summary>
        [Benchmark(Description = "Create(size, growable) + Write")]
        public long CreateAndWrite()
        {
            string name = SegmentNames.Unique("nogrow");
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, Size, new SharedMemoryOptions { Growable = true });
            long version = segment.Write(_payload, SharedMemoryContentType.Bytes);
            SharedMemorySegment.Remove(name);
            return version;
        }
    }
}
