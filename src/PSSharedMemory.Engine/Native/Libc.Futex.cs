using System;
using System.Runtime.InteropServices;

namespace PSSharedMemory.Engine.Native
{
    /// <summary>
    /// Linux futexes on words in a shared mapping: the sleep and wake behind change and lock waits, and
    /// futex_waitv (Linux 5.16 and later), which sleeps on several words at once. macOS has none that work
    /// between processes; its mappings poll instead.
    /// </summary>
    internal static unsafe partial class Libc
    {
        [DllImport(LibC, EntryPoint = "syscall", SetLastError = true)]
        private static extern long syscall_futex(long number, int* address, int operation, int value, Timespec* timeout, IntPtr address2, int value3);

        [StructLayout(LayoutKind.Sequential)]
        private struct Timespec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        [DllImport(LibC, EntryPoint = "syscall", SetLastError = true)]
        private static extern long syscall_futex_waitv(long number, FutexWaiter* waiters, uint count, uint flags, Timespec* timeout, int clockId);

        [DllImport(LibC, EntryPoint = "clock_gettime", SetLastError = true)]
        private static extern int clock_gettime(int clockId, Timespec* time);

        /// <summary>One entry of futex_waitv's array (struct futex_waitv): sleep while the word at Address holds Value.</summary>
        [StructLayout(LayoutKind.Sequential)]
        public struct FutexWaiter
        {
            /// <summary>The value expected, zero-extended: the kernel refuses a 32-bit futex whose value has higher bits set.</summary>
            public ulong Value;
            public ulong Address;
            public uint Flags;
            public uint Reserved;
        }

        private const int FUTEX_WAIT = 0;
        private const int FUTEX_WAKE = 1;
        private const int FUTEX_PRIVATE_FLAG = 128;
        private const int CLOCK_MONOTONIC = 1;

        /// <summary>futex_waitv flags of a 32-bit word that other processes may wake (a shared futex).</summary>
        public const uint FutexWaitvShared32 = 2;

        /// <summary>futex_waitv flags of a 32-bit word only this process wakes.</summary>
        public const uint FutexWaitvPrivate32 = 2 | FUTEX_PRIVATE_FLAG;

        /// <summary>The most words one futex_waitv call takes (FUTEX_WAITV_MAX).</summary>
        public const int FutexWaitvMax = 128;

        // Number 449 in the generic table (arm64) and in x86_64's alike.
        private static readonly long FutexWaitvSyscall = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 449,
            Architecture.Arm64 => 449,
            _ => -1,
        };

        /// <summary>False where futex_waitv cannot be called at all; a kernel older than 5.16 is only found out by calling it.</summary>
        public static bool FutexWaitvSupported => FutexSupported && FutexWaitvSyscall > 0;

        private static readonly long FutexSyscall = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 202,
            Architecture.Arm64 => 98,
            Architecture.X86 => 240,
            Architecture.Arm => 240,
            _ => -1,
        };

        /// <summary>Linux only: macOS has no futex between processes, and Windows (or Wine) has no libc.</summary>
        public static bool FutexSupported { get; } = RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && FutexSyscall > 0;

        /// <summary>
        /// Sleeps while <paramref name="address"/> holds <paramref name="expected"/>, for at most the timeout.
        /// The shared (non-private) operation, so waiters and wakers may be different processes.
        /// </summary>
        public static void FutexWait(int* address, int expected, int timeoutMilliseconds)
        {
            var timeout = new Timespec
            {
                Seconds = timeoutMilliseconds / 1000,
                Nanoseconds = (timeoutMilliseconds % 1000) * 1_000_000L,
            };
            long result = syscall_futex(FutexSyscall, address, FUTEX_WAIT, expected, &timeout, IntPtr.Zero, 0);
            if (result != 0)
            {
                int errno = Marshal.GetLastWin32Error();
                if (errno != EAGAIN && errno != EINTR && errno != ETIMEDOUT)
                {
                    throw new NativeException("futex", errno, null);
                }
            }
        }

        /// <summary>
        /// Sleeps while every word of <paramref name="waiters"/> holds its value, for at most the timeout.
        /// Returns true when the sleep ended (a wake, a word that no longer held its value, the timeout or a
        /// signal), false when this kernel has no futex_waitv (ENOSYS) or a sandbox refuses it (EPERM).
        /// </summary>
        public static bool FutexWaitv(FutexWaiter* waiters, int count, int timeoutMilliseconds)
        {
            // futex_waitv takes an absolute time on the clock it is given.
            Timespec deadline;
            if (clock_gettime(CLOCK_MONOTONIC, &deadline) != 0)
            {
                throw new NativeException("clock_gettime", Marshal.GetLastWin32Error(), null);
            }

            long nanoseconds = deadline.Nanoseconds + (timeoutMilliseconds % 1000) * 1_000_000L;
            deadline.Seconds += timeoutMilliseconds / 1000 + nanoseconds / 1_000_000_000L;
            deadline.Nanoseconds = nanoseconds % 1_000_000_000L;
            long result = syscall_futex_waitv(FutexWaitvSyscall, waiters, (uint)count, 0, &deadline, CLOCK_MONOTONIC);
            if (result < 0)
            {
                int errno = Marshal.GetLastWin32Error();
                if (errno == ENOSYS || errno == EPERM)
                {
                    return false;
                }

                if (errno != EAGAIN && errno != EINTR && errno != ETIMEDOUT)
                {
                    throw new NativeException("futex_waitv", errno, null);
                }
            }

            return true;
        }

        /// <summary>Wakes the sleepers on a word only this process uses (a private futex).</summary>
        public static void FutexWakePrivate(int* address) =>
            syscall_futex(FutexSyscall, address, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, int.MaxValue, null, IntPtr.Zero, 0);

        public static void FutexWakeAll(int* address)
        {
            long result = syscall_futex(FutexSyscall, address, FUTEX_WAKE, int.MaxValue, null, IntPtr.Zero, 0);
            if (result < 0)
            {
                throw new NativeException("futex", Marshal.GetLastWin32Error(), null);
            }
        }
    }
}
