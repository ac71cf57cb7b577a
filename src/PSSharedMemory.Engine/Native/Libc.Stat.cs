using System;
using System.Runtime.InteropServices;

namespace PSSharedMemory.Engine.Native
{
    /// <summary>
    /// fstat and lstat, and the few fields of struct stat the stores need, read at the offsets of each
    /// OS and 64-bit architecture (the module refuses 32-bit processes on Unix).
    /// </summary>
    internal static unsafe partial class Libc
    {
        [DllImport(LibC, EntryPoint = "fstat", SetLastError = true)]
        private static extern int fstat_(SafeFileDescriptor fd, byte* buffer);

        [DllImport(LibC, EntryPoint = "fstat$INODE64", SetLastError = true)]
        private static extern int fstat_inode64_(SafeFileDescriptor fd, byte* buffer);

        [DllImport(LibC, EntryPoint = "__fxstat", SetLastError = true)]
        private static extern int fxstat_(int version, SafeFileDescriptor fd, byte* buffer);

        [DllImport(LibC, EntryPoint = "lstat", SetLastError = true)]
        private static extern int lstat_(string path, byte* buffer);

        [DllImport(LibC, EntryPoint = "lstat$INODE64", SetLastError = true)]
        private static extern int lstat_inode64_(string path, byte* buffer);

        [DllImport(LibC, EntryPoint = "__lxstat", SetLastError = true)]
        private static extern int lxstat_(int version, string path, byte* buffer);

        /// <summary>The fields of struct stat the backends need.</summary>
        internal struct FileStatus
        {
            public ulong Device;
            public ulong Inode;
            public int Mode;
            public uint Uid;
            public long Size;

            /// <summary>512-byte blocks allocated to the file.</summary>
            public long Blocks;

            public bool IsSameFile(FileStatus other) => Device == other.Device && Inode == other.Inode;
        }

        public static FileStatus Fstat(SafeFileDescriptor fd)
        {
            byte* buffer = stackalloc byte[512];
            int result;
            string function = "fstat";
            if (IsMacOS)
            {
                result = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? fstat_inode64_(fd, buffer) : fstat_(fd, buffer);
            }
            else
            {
                try
                {
                    result = fstat_(fd, buffer);
                }
                catch (EntryPointNotFoundException)
                {
                    // glibc before 2.33 exports only the versioned __fxstat.
                    function = "__fxstat";
                    result = fxstat_(StatVersion, fd, buffer);
                }
            }

            if (result != 0)
            {
                throw new NativeException(function, Marshal.GetLastWin32Error(), null);
            }

            return Decode(buffer);
        }

        /// <summary>Stats a path without following a final symbolic link. Null when it does not exist.</summary>
        public static FileStatus? Lstat(string path)
        {
            byte* buffer = stackalloc byte[512];
            int result;
            string function = "lstat";
            if (IsMacOS)
            {
                result = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? lstat_inode64_(path, buffer) : lstat_(path, buffer);
            }
            else
            {
                try
                {
                    result = lstat_(path, buffer);
                }
                catch (EntryPointNotFoundException)
                {
                    function = "__lxstat";
                    result = lxstat_(StatVersion, path, buffer);
                }
            }

            if (result != 0)
            {
                int errno = Marshal.GetLastWin32Error();
                if (errno == ENOENT)
                {
                    return null;
                }

                throw new NativeException(function, errno, path);
            }

            return Decode(buffer);
        }

        public const int S_IFMT = 0xF000;
        public const int S_IFDIR = 0x4000;
        public const int S_IFREG = 0x8000;
        public const int S_IFLNK = 0xA000;

        private static int StatVersion => RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 1 : 0;

        // struct stat differs by OS and architecture; these are the offsets of st_mode, st_uid and st_size.
        private static FileStatus Decode(byte* buffer)
        {
            var status = new FileStatus();
            if (IsMacOS)
            {
                // struct stat64 (the $INODE64 variant).
                status.Device = *(uint*)buffer;
                status.Mode = *(ushort*)(buffer + 4);
                status.Inode = *(ulong*)(buffer + 8);
                status.Uid = *(uint*)(buffer + 16);
                status.Size = *(long*)(buffer + 96);
                status.Blocks = *(long*)(buffer + 104);
            }
            else if (RuntimeInformation.ProcessArchitecture == Architecture.X64)
            {
                status.Device = *(ulong*)buffer;
                status.Inode = *(ulong*)(buffer + 8);
                status.Mode = *(int*)(buffer + 24);
                status.Uid = *(uint*)(buffer + 28);
                status.Size = *(long*)(buffer + 48);
                status.Blocks = *(long*)(buffer + 64);
            }
            else
            {
                // The generic layout used by arm64 and the other 64-bit Linux architectures.
                status.Device = *(ulong*)buffer;
                status.Inode = *(ulong*)(buffer + 8);
                status.Mode = *(int*)(buffer + 16);
                status.Uid = *(uint*)(buffer + 24);
                status.Size = *(long*)(buffer + 48);
                status.Blocks = *(long*)(buffer + 64);
            }

            return status;
        }
    }
}
