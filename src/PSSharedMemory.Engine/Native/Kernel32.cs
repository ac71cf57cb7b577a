using System;
using System.Runtime.InteropServices;
using System.Threading;
using Microsoft.Win32.SafeHandles;

namespace PSSharedMemory.Engine.Native
{
    /// <summary>The Win32 calls of the Windows backend, each checked and turned into a <see cref="NativeException"/>.</summary>
    internal static class Kernel32
    {
        public const int ERROR_LOCK_VIOLATION = 33;
        public const int ERROR_IO_PENDING = 997;

        private const int LOCKFILE_FAIL_IMMEDIATELY = 1;
        private const int LOCKFILE_EXCLUSIVE_LOCK = 2;

        // The lock covers one byte far past the end of any segment, so it never blocks I/O on the data.
        private const uint LockOffsetHigh = 0x7FFFFFFF;

        [DllImport("kernel32.dll", EntryPoint = "LockFileEx", SetLastError = true)]
        private static extern bool LockFileEx_(SafeFileHandle file, int flags, int reserved, int bytesLow, int bytesHigh, ref NativeOverlapped overlapped);

        [DllImport("kernel32.dll", EntryPoint = "UnlockFileEx", SetLastError = true)]
        private static extern bool UnlockFileEx_(SafeFileHandle file, int reserved, int bytesLow, int bytesHigh, ref NativeOverlapped overlapped);

        /// <summary>
        /// Tries to take the exclusive byte-range lock without blocking. Byte-range locks belong to the file
        /// handle, not to a thread, and Windows drops them when the owning process ends.
        /// </summary>
        public static bool TryLockFile(SafeFileHandle file)
        {
            var overlapped = new NativeOverlapped { OffsetLow = 0, OffsetHigh = unchecked((int)LockOffsetHigh) };
            if (LockFileEx_(file, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ref overlapped))
            {
                return true;
            }

            int error = Marshal.GetLastWin32Error();
            if (error == ERROR_LOCK_VIOLATION || error == ERROR_IO_PENDING)
            {
                return false;
            }

            throw NativeException.FromWin32("LockFileEx", error, null);
        }

        public static void UnlockFile(SafeFileHandle file)
        {
            var overlapped = new NativeOverlapped { OffsetLow = 0, OffsetHigh = unchecked((int)LockOffsetHigh) };
            if (!UnlockFileEx_(file, 0, 1, 0, ref overlapped))
            {
                throw NativeException.FromWin32("UnlockFileEx", Marshal.GetLastWin32Error(), null);
            }
        }
    }
}
