using System;
using System.Runtime.InteropServices;

namespace PSSharedMemory.Engine.Native
{
    /// <summary>
    /// Linux futexes on words in a shared mapping: the sleep and wake behind change and lock waits. macOS
    /// has none that work between processes; its mappings poll instead.
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

        private const int FUTEX_WAIT = 0;
        private const int FUTEX_WAKE = 1;

        private static readonly long FutexSyscall = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 202,
            Architecture.Arm64 => 98,
            Architecture.X86 => 240,
            Architecture.Arm => 240,
            _ => -1,
        };

        public static bool FutexSupported => !IsMacOS && FutexSyscall > 0;

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
