using System;
using System.Runtime.InteropServices;

namespace PSSharedMemory.Engine.Native
{
    /// <summary>
    /// The libc calls of the Unix backends. Each private extern has a public wrapper that checks the
    /// result and throws a <see cref="NativeException"/> carrying the function name and errno.
    /// Constants that differ between Linux and macOS are chosen once at start-up.
    /// </summary>
    internal static unsafe partial class Libc
    {
        private const string LibC = "libc";

        public static readonly bool IsMacOS = RuntimeInformation.IsOSPlatform(OSPlatform.OSX);

        public const int O_RDONLY = 0;
        public const int O_RDWR = 2;
        public static readonly int O_CREAT = IsMacOS ? 0x200 : 0x40;
        public static readonly int O_EXCL = IsMacOS ? 0x800 : 0x80;
        public static readonly int O_CLOEXEC = IsMacOS ? 0x1000000 : 0x80000;
        public static readonly int O_NOFOLLOW = IsMacOS ? 0x100
            : RuntimeInformation.ProcessArchitecture == Architecture.Arm64 || RuntimeInformation.ProcessArchitecture == Architecture.Arm ? 0x8000 : 0x20000;

        public static readonly int O_DIRECTORY = IsMacOS ? 0x100000
            : RuntimeInformation.ProcessArchitecture == Architecture.Arm64 || RuntimeInformation.ProcessArchitecture == Architecture.Arm ? 0x4000 : 0x10000;

        // A FIFO put where a segment should be would otherwise block the open.
        public static readonly int O_NONBLOCK = IsMacOS ? 0x4 : 0x800;

        public const int PROT_READ = 1;
        public const int PROT_WRITE = 2;
        public const int MAP_SHARED = 1;

        public const int LOCK_EX = 2;
        public const int LOCK_NB = 4;
        public const int LOCK_UN = 8;

        public const int EPERM = 1;
        public const int ENOENT = 2;
        public const int ESRCH = 3;
        public const int EINTR = 4;
        public const int EBADF = 9;
        public const int EACCES = 13;
        public const int EFAULT = 14;
        public const int EEXIST = 17;
        public const int ENOTDIR = 20;
        public const int EINVAL = 22;
        public const int ENOSPC = 28;
        public static readonly int EAGAIN = IsMacOS ? 35 : 11;
        public static readonly int ETIMEDOUT = IsMacOS ? 60 : 110;
        public static readonly int ELOOP = IsMacOS ? 62 : 40;
        public static readonly int EDQUOT = IsMacOS ? 69 : 122;
        public static readonly int EOPNOTSUPP = IsMacOS ? 102 : 95;

        [DllImport(LibC, EntryPoint = "open", SetLastError = true)]
        private static extern SafeFileDescriptor open_(string path, int flags, int mode);

        [DllImport(LibC, EntryPoint = "openat", SetLastError = true)]
        private static extern SafeFileDescriptor openat_(SafeFileDescriptor directory, string path, int flags, int mode);

        [DllImport(LibC, EntryPoint = "unlinkat", SetLastError = true)]
        private static extern int unlinkat_(SafeFileDescriptor directory, string path, int flags);

        [DllImport(LibC, EntryPoint = "linkat", SetLastError = true)]
        private static extern int linkat_(SafeFileDescriptor oldDirectory, string oldPath, SafeFileDescriptor newDirectory, string newPath, int flags);

        [DllImport(LibC, EntryPoint = "fstatfs", SetLastError = true)]
        private static extern int fstatfs_(SafeFileDescriptor fd, byte* buffer);

        [DllImport(LibC, EntryPoint = "kill", SetLastError = true)]
        private static extern int kill_(int pid, int signal);

        [DllImport(LibC, EntryPoint = "close", SetLastError = true)]
        private static extern int close_(int fd);

        [DllImport(LibC, EntryPoint = "fchmod", SetLastError = true)]
        private static extern int fchmod_(SafeFileDescriptor fd, int mode);

        [DllImport(LibC, EntryPoint = "ftruncate", SetLastError = true)]
        private static extern int ftruncate_(SafeFileDescriptor fd, long length);

        // Returns the error number instead of setting errno.
        [DllImport(LibC, EntryPoint = "posix_fallocate")]
        private static extern int posix_fallocate_(SafeFileDescriptor fd, long offset, long length);

        [DllImport(LibC, EntryPoint = "mmap", SetLastError = true)]
        private static extern IntPtr mmap_(IntPtr addr, UIntPtr length, int prot, int flags, SafeFileDescriptor fd, long offset);

        [DllImport(LibC, EntryPoint = "munmap", SetLastError = true)]
        private static extern int munmap_(IntPtr addr, UIntPtr length);

        [DllImport(LibC, EntryPoint = "flock", SetLastError = true)]
        private static extern int flock_(SafeFileDescriptor fd, int operation);

        [DllImport(LibC, EntryPoint = "unlink", SetLastError = true)]
        private static extern int unlink_(string path);

        [DllImport(LibC, EntryPoint = "link", SetLastError = true)]
        private static extern int link_(string oldPath, string newPath);

        [DllImport(LibC, EntryPoint = "mkdir", SetLastError = true)]
        private static extern int mkdir_(string path, int mode);

        [DllImport(LibC, EntryPoint = "chmod", SetLastError = true)]
        private static extern int chmod_(string path, int mode);

        [DllImport(LibC, EntryPoint = "geteuid")]
        private static extern uint geteuid_();

        public static SafeFileDescriptor Open(string path, int flags, int mode)
        {
            SafeFileDescriptor fd = open_(path, flags, mode);
            if (fd.IsInvalid)
            {
                int errno = Marshal.GetLastWin32Error();
                fd.Dispose();
                throw new NativeException("open", errno, path);
            }

            return fd;
        }

        /// <summary>Opens <paramref name="path"/> relative to an open directory, so no swapped path component is followed.</summary>
        public static SafeFileDescriptor OpenAt(SafeFileDescriptor directory, string path, int flags, int mode)
        {
            SafeFileDescriptor fd = openat_(directory, path, flags, mode);
            if (fd.IsInvalid)
            {
                int errno = Marshal.GetLastWin32Error();
                fd.Dispose();
                throw new NativeException("openat", errno, path);
            }

            return fd;
        }

        public static void UnlinkAt(SafeFileDescriptor directory, string path)
        {
            if (unlinkat_(directory, path, 0) != 0)
            {
                throw new NativeException("unlinkat", Marshal.GetLastWin32Error(), path);
            }
        }

        /// <summary>Creates a second name for a file within one directory; fails with EEXIST rather than replacing one.</summary>
        public static void LinkAt(SafeFileDescriptor directory, string oldPath, string newPath)
        {
            if (linkat_(directory, oldPath, directory, newPath, 0) != 0)
            {
                throw new NativeException("linkat", Marshal.GetLastWin32Error(), newPath);
            }
        }

        private const long TmpfsMagic = 0x01021994;

        /// <summary>
        /// True when the file lives on Linux tmpfs, which allocates a page when a mapping first touches it
        /// (and raises SIGBUS when it cannot). Elsewhere, and when the file system cannot be told, false.
        /// </summary>
        public static bool IsOnTmpfs(SafeFileDescriptor fd)
        {
            if (IsMacOS)
            {
                return false;
            }

            // f_type is the first field of struct statfs on every 64-bit Linux.
            byte* buffer = stackalloc byte[256];
            return fstatfs_(fd, buffer) == 0 && *(long*)buffer == TmpfsMagic;
        }

        /// <summary>True unless the process certainly does not exist (kill(pid, 0) fails with ESRCH).</summary>
        public static bool ProcessMayExist(int pid)
        {
            if (pid <= 0)
            {
                return false;
            }

            return kill_(pid, 0) == 0 || Marshal.GetLastWin32Error() != ESRCH;
        }

        public static int CloseRaw(int fd) => close_(fd);

        public static int MunmapRaw(IntPtr address, UIntPtr length) => munmap_(address, length);

        public static void Fchmod(SafeFileDescriptor fd, int mode)
        {
            if (fchmod_(fd, mode) != 0)
            {
                throw new NativeException("fchmod", Marshal.GetLastWin32Error(), null);
            }
        }

        public static void Chmod(string path, int mode)
        {
            if (chmod_(path, mode) != 0)
            {
                throw new NativeException("chmod", Marshal.GetLastWin32Error(), path);
            }
        }

        public static void Ftruncate(SafeFileDescriptor fd, long length)
        {
            if (ftruncate_(fd, length) != 0)
            {
                throw new NativeException("ftruncate", Marshal.GetLastWin32Error(), null);
            }
        }

        /// <summary>Reserves the file's blocks now, so a full store fails here and not with SIGBUS later.</summary>
        public static void Fallocate(SafeFileDescriptor fd, long length) => Fallocate(fd, 0, length);

        /// <summary>Reserves <paramref name="length"/> bytes of the file from <paramref name="offset"/>, lengthening it if needed.</summary>
        public static void Fallocate(SafeFileDescriptor fd, long offset, long length)
        {
            int error;
            do
            {
                error = posix_fallocate_(fd, offset, length);
            }
            while (error == EINTR);

            if (error != 0)
            {
                throw new NativeException("posix_fallocate", error, null);
            }
        }

        public static SafeMappedView Mmap(SafeFileDescriptor fd, long length, bool readOnly = false)
        {
            IntPtr address = mmap_(IntPtr.Zero, new UIntPtr((ulong)length), readOnly ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (address == new IntPtr(-1))
            {
                throw new NativeException("mmap", Marshal.GetLastWin32Error(), null);
            }

            var view = new SafeMappedView();
            view.SetMapping(address, length);
            return view;
        }

        /// <summary>Tries to take an exclusive flock without blocking. False when another open file description holds it.</summary>
        public static bool TryFlockExclusive(SafeFileDescriptor fd)
        {
            while (true)
            {
                if (flock_(fd, LOCK_EX | LOCK_NB) == 0)
                {
                    return true;
                }

                int errno = Marshal.GetLastWin32Error();
                if (errno == EINTR)
                {
                    continue;
                }

                if (errno == EAGAIN)
                {
                    return false;
                }

                throw new NativeException("flock", errno, null);
            }
        }

        public static void Funlock(SafeFileDescriptor fd)
        {
            if (flock_(fd, LOCK_UN) != 0)
            {
                throw new NativeException("flock", Marshal.GetLastWin32Error(), null);
            }
        }

        public static void Unlink(string path)
        {
            if (unlink_(path) != 0)
            {
                throw new NativeException("unlink", Marshal.GetLastWin32Error(), path);
            }
        }

        /// <summary>Creates a second name for a file; fails with EEXIST rather than replacing an existing one.</summary>
        public static void Link(string oldPath, string newPath)
        {
            if (link_(oldPath, newPath) != 0)
            {
                throw new NativeException("link", Marshal.GetLastWin32Error(), newPath);
            }
        }

        /// <summary>Creates a directory; returns false when it already exists.</summary>
        public static bool Mkdir(string path, int mode)
        {
            if (mkdir_(path, mode) == 0)
            {
                return true;
            }

            int errno = Marshal.GetLastWin32Error();
            if (errno == EEXIST)
            {
                return false;
            }

            throw new NativeException("mkdir", errno, path);
        }

        public static uint GetEffectiveUserId() => geteuid_();

    }
}
