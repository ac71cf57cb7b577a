using BenchmarkDotNet.Attributes;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Benchmarks
{
    /// <summary>
    /// Reading a 64-byte payload by name: opening, reading and closing each time (cold: open the store,
    /// openat, fstat, mmap, a page fault on the header, munmap, close) against a read through a handle kept
    /// open (cached); and the safety checks on their own.
    /// </summary>
    [MemoryDiagnoser]
    public class OpenBenchmarks
    {
        private SharedMemorySegment? _cached;
        private string _name = string.Empty;

        [GlobalSetup]
        public void Setup()
        {
            _name = SegmentNames.Unique("open");
            _cached = SegmentNames.CreateTouched(_name, 64);
            _cached.Write(new byte[64], SharedMemoryContentType.Bytes);
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            _cached?.Dispose();
            SharedMemorySegment.Remove(_name);
        }

        [Benchmark(Baseline = true, Description = "Read (cached handle)")]
        public byte[] CachedRead() => _cached!.Read().Data;

        [Benchmark(Description = "Open+Read+Dispose (cold)")]
        public byte[] ColdRead()
        {
            using SharedMemorySegment segment = SharedMemorySegment.Open(_name);
            return segment.Read().Data;
        }

        [Benchmark(Description = "Exists (trusted store + lstat)")]
        public bool Exists() => SharedMemorySegment.Exists(_name);

        /// <summary>The check before every access to the mapping: one fstat of the segment file.</summary>
        [Benchmark(Description = "CheckIntact (one fstat)")]
        public string? CheckIntact() => _cached!.Mapping.CheckIntact();

        /// <summary>What the module's session cache does before it reuses a handle.</summary>
        [Benchmark(Description = "IsOrphaned (cache revalidation)")]
        public bool IsOrphaned() => _cached!.IsOrphaned();
    }
}
