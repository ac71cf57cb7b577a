using System;
using System.IO;
using System.Threading;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Benchmarks
{
    /// <summary>The system calls a floor wake makes around the futex wake itself.</summary>
    internal enum FloorCalls
    {
        /// <summary>None: a futex word and a timestamp in a shared file mapping, nothing else.</summary>
        None,

        /// <summary>The writer's flock pair around it (what a write made before the hardening).</summary>
        FlockPair,

        /// <summary>
        /// What the hardened write and wake make: the writer's fstat of the file and its flock pair, and the
        /// waiter's fstat after it wakes.
        /// </summary>
        Hardened,
    }

    /// <summary>
    /// The floor of a cross-process wake through shared memory: a futex word and a timestamp in a shared file
    /// mapping, with only the system calls <see cref="FloorCalls"/> names around it (no header, no managed
    /// protocol). Both sides map the same file.
    /// </summary>
    internal sealed unsafe class FutexFloor : IDisposable
    {
        private const int Length = 4096;

        private readonly SafeFileDescriptor _fd;
        private readonly SafeMappedView _view;
        private readonly int* _word;
        private readonly long* _stamp;

        public FutexFloor(string path)
        {
            _fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
            _view = Libc.Mmap(_fd, Length);
            byte* start = (byte*)_view.DangerousGetHandle();
            _word = (int*)start;
            _stamp = (long*)(start + 8);
        }

        /// <summary>Makes the file both sides map, on the file system of the segments on Linux.</summary>
        public static string CreateFile()
        {
            string directory = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
            string path = Path.Combine(directory, $"pssm-bench-futex-{Environment.ProcessId}-{Guid.NewGuid():N}");
            using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
            {
                file.SetLength(Length);
            }

            return path;
        }

        /// <summary>The word's value now.</summary>
        public int Word => Volatile.Read(ref *_word);

        /// <summary>Stores <paramref name="stamp"/>, bumps the word and wakes its sleepers.</summary>
        public void Wake(long stamp, FloorCalls calls)
        {
            if (calls == FloorCalls.Hardened)
            {
                Libc.Fstat(_fd);
            }

            if (calls != FloorCalls.None)
            {
                if (!Libc.TryFlockExclusive(_fd))
                {
                    throw new InvalidOperationException("The floor's file lock is taken.");
                }
            }

            Volatile.Write(ref *_stamp, stamp);
            Interlocked.Increment(ref *_word);
            Libc.FutexWakeAll(_word);
            if (calls != FloorCalls.None)
            {
                Libc.Funlock(_fd);
            }
        }

        /// <summary>
        /// Sleeps until the word differs from <paramref name="expected"/>, then (for <see cref="FloorCalls.Hardened"/>)
        /// checks the file as the engine's waiter does; returns the stamp of the wake.
        /// </summary>
        public long WaitForWake(int expected, FloorCalls calls)
        {
            long deadline = Environment.TickCount64 + 10_000;
            while (Volatile.Read(ref *_word) == expected)
            {
                if (Environment.TickCount64 > deadline)
                {
                    throw new TimeoutException("The floor's futex word did not change within 10 seconds.");
                }

                Libc.FutexWait(_word, expected, 10_000);
            }

            if (calls == FloorCalls.Hardened)
            {
                Libc.Fstat(_fd);
            }

            return Volatile.Read(ref *_stamp);
        }

        public void Dispose()
        {
            _view.Dispose();
            _fd.Dispose();
        }
    }
}
