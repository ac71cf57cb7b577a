using System;
using System.Runtime.InteropServices;
using System.Threading;
using BenchmarkDotNet.Attributes;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Benchmarks
{
    /// <summary>
    /// An uncontended Lock + Unlock of one handle, against the two flock(2) system calls it is built on
    /// and against all four calls it makes (with the fstat checks), on Linux and macOS, measured on a
    /// separate file in the same store.
    /// </summary>
    [MemoryDiagnoser]
    public class LockBenchmarks
    {
        private const int LOCK_EX = 2;
        private const int LOCK_NB = 4;
        private const int LOCK_UN = 8;

        private SharedMemorySegment? _segment;
        private string _name = string.Empty;
        private int _fd = -1;
        private string _flockPath = string.Empty;

        [GlobalSetup]
        public void Setup()
        {
            _name = SegmentNames.Unique("lock");
            _segment = SegmentNames.CreateTouched(_name, 64);
            if (!OperatingSystem.IsWindows())
            {
                _flockPath = System.IO.Path.Combine(SharedMemorySegment.GetStoreDirectory(), "." + _name + ".flock");
                _fd = open(_flockPath, 0x42 /* O_RDWR | O_CREAT */, 0x180);
                if (_fd < 0)
                {
                    throw new InvalidOperationException($"open({_flockPath}) failed: {Marshal.GetLastPInvokeError()}");
                }
            }
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            _segment?.Dispose();
            SharedMemorySegment.Remove(_name);
            if (_fd >= 0)
            {
                close(_fd);
                System.IO.File.Delete(_flockPath);
            }
        }

        /// <summary>The system-call floor: flock(LOCK_EX|LOCK_NB) then flock(LOCK_UN).</summary>
        [Benchmark(Baseline = true, Description = "flock pair (syscalls only)")]
        public int FlockPair()
        {
            if (_fd < 0)
            {
                return 0;
            }

            return flock(_fd, LOCK_EX | LOCK_NB) + flock(_fd, LOCK_UN);
        }

        /// <summary>
        /// The system calls Lock()+Unlock() makes since the hardening: the flock pair, and before each an
        /// fstat that checks the file still backs the mapping.
        /// </summary>
        [Benchmark(Description = "flock pair + 2 fstat (the calls Lock+Unlock makes)")]
        public unsafe int FlockPairChecked()
        {
            if (_fd < 0)
            {
                return 0;
            }

            byte* status = stackalloc byte[256];
            return fstat(_fd, status) + flock(_fd, LOCK_EX | LOCK_NB) + fstat(_fd, status) + flock(_fd, LOCK_UN);
        }

        [Benchmark(Description = "Lock()+Dispose()")]
        public void LockDispose()
        {
            using (_segment!.Lock(SharedMemorySegment.DefaultLockTimeout, CancellationToken.None))
            {
            }
        }

        [Benchmark(Description = "Lock()+Unlock()")]
        public void LockUnlock()
        {
            _segment!.Lock(SharedMemorySegment.DefaultLockTimeout, CancellationToken.None);
            _segment.Unlock();
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int open(string path, int flags, int mode);

        [DllImport("libc", SetLastError = true)]
        private static extern int close(int fd);

        [DllImport("libc", SetLastError = true)]
        private static extern int flock(int fd, int operation);

        [DllImport("libc", SetLastError = true)]
        private static extern unsafe int fstat(int fd, byte* status);
    }
}
