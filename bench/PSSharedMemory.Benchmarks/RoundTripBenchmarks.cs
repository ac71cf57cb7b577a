using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Benchmarks
{
    /// <summary>
    /// One Write plus one Read of the whole payload, with the segment kept open, against the physical
    /// limit of the same traffic: two Buffer.MemoryCopy calls of the same size (into shared memory and
    /// back out) between buffers that are already mapped.
    /// </summary>
    /// <remarks>
    /// Every buffer and the segment are written in full during setup: a first touch of fresh memory costs a
    /// page fault per 4 KiB page, which on this kind of VM runs at a few hundred MB/s and would swamp the copy.
    /// Read() returns a new array each time; that allocation (and, for large payloads, its first touch) is part
    /// of what <see cref="EngineWriteRead"/> measures, and <see cref="EngineWriteReadIntoBuffer"/> shows the cost
    /// without it.
    /// </remarks>
    [MemoryDiagnoser]
    public unsafe class RoundTripBenchmarks
    {
        private const int Alignment = 64;

        private byte[] _payload = Array.Empty<byte>();
        private byte* _source;
        private byte* _middle;
        private byte* _destination;
        private byte[] _readBuffer = Array.Empty<byte>();
        private SharedMemorySegment? _segment;
        private string _name = string.Empty;

        public static IEnumerable<int> Sizes()
        {
            yield return 64;
            yield return 4 * 1024;
            yield return 64 * 1024;
            yield return 1024 * 1024;
            yield return 16 * 1024 * 1024;
            if (!BenchmarkSettings.Quick)
            {
                yield return 256 * 1024 * 1024;
            }
        }

        [ParamsSource(nameof(Sizes))]
        public int Size { get; set; }

        [GlobalSetup]
        public void Setup()
        {
            _payload = GC.AllocateUninitializedArray<byte>(Size, pinned: true);
            new Random(42).NextBytes(_payload);
            _readBuffer = GC.AllocateArray<byte>(Size, pinned: true);
            _source = Allocate(Size);
            _middle = Allocate(Size);
            _destination = Allocate(Size);
            fixed (byte* payload = _payload)
            {
                Buffer.MemoryCopy(payload, _source, Size, Size);
                Buffer.MemoryCopy(payload, _middle, Size, Size);
                Buffer.MemoryCopy(payload, _destination, Size, Size);
            }

            _name = SegmentNames.Unique("roundtrip");
            _segment = SegmentNames.CreateTouched(_name, Size);
            _segment.Write(_payload, SharedMemoryContentType.Bytes);
            if (_segment.Read().Data.Length != Size)
            {
                throw new InvalidOperationException("The setup round trip returned the wrong length.");
            }
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            _segment?.Dispose();
            SharedMemorySegment.Remove(_name);
            NativeMemory.AlignedFree(_source);
            NativeMemory.AlignedFree(_middle);
            NativeMemory.AlignedFree(_destination);
        }

        /// <summary>The floor: the bytes go into a mapped buffer and back out, nothing else.</summary>
        [Benchmark(Baseline = true, Description = "2x memcpy")]
        public void TwoMemcpy()
        {
            Buffer.MemoryCopy(_source, _middle, Size, Size);
            Buffer.MemoryCopy(_middle, _destination, Size, Size);
        }

        /// <summary>The floor plus the cross-process lock a write has to take: the goal's "memcpy plus the lock".</summary>
        [Benchmark(Description = "2x memcpy + Lock/Unlock")]
        public void TwoMemcpyAndLock()
        {
            using (_segment!.Lock(SharedMemorySegment.DefaultLockTimeout))
            {
                Buffer.MemoryCopy(_source, _middle, Size, Size);
            }

            Buffer.MemoryCopy(_middle, _destination, Size, Size);
        }

        /// <summary>
        /// The floor plus only the two flock(2) calls the lock is built on, taken on the segment's own file:
        /// the goal's "memcpy plus the lock" without any of the engine's own checks.
        /// </summary>
        [Benchmark(Description = "2x memcpy + flock pair")]
        public void TwoMemcpyAndFlock()
        {
            if (!_segment!.Mapping.TryLock())
            {
                throw new InvalidOperationException("The segment's lock is held elsewhere.");
            }

            Buffer.MemoryCopy(_source, _middle, Size, Size);
            _segment.Mapping.Unlock();
            Buffer.MemoryCopy(_middle, _destination, Size, Size);
        }

        /// <summary>
        /// The floor for any API that hands back a new byte[] (as Read() and Read-SharedMemory -AsByteArray do):
        /// the copy in, then a fresh array and the copy out. Shows what the allocation itself costs.
        /// </summary>
        [Benchmark(Description = "2x memcpy, out to new byte[]")]
        public byte[] TwoMemcpyNewArray()
        {
            Buffer.MemoryCopy(_source, _middle, Size, Size);
            var result = new byte[Size];
            fixed (byte* destination = result)
            {
                Buffer.MemoryCopy(_middle, destination, Size, Size);
            }

            return result;
        }

        /// <summary>The public API: Write(byte[]) then Read(), which returns a fresh byte[].</summary>
        [Benchmark(Description = "Write+Read")]
        public byte[] EngineWriteRead()
        {
            _segment!.Write(_payload, SharedMemoryContentType.Bytes);
            return _segment.Read().Data;
        }

        /// <summary>
        /// Write, then Read(byte[], int) into a buffer reused from call to call: the same lock-free,
        /// sequence-checked copy as Read(), without the new array. Against <see cref="EngineWriteRead"/>, what
        /// the allocation costs a caller that reads large payloads in a loop.
        /// </summary>
        [Benchmark(Description = "Write+Read(buffer)")]
        public int EngineWriteReadIntoBuffer()
        {
            _segment!.Write(_payload, SharedMemoryContentType.Bytes);
            return _segment.Read(_readBuffer, 0);
        }

        private static byte* Allocate(int size) => (byte*)NativeMemory.AlignedAlloc((nuint)size, Alignment);
    }
}
