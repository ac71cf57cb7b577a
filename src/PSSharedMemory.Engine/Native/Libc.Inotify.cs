using System;
using System.Runtime.InteropServices;

namespace PSSharedMemory.Engine.Native
{
    /// <summary>
    /// Linux inotify, eventfd and poll: how a wait for a segment name sleeps until the store directory gets a
    /// new entry (see <see cref="UnixSegmentStore.InotifyStoreWatch"/>). The flag values are those of every Linux architecture.
    /// </summary>
    internal static unsafe partial class Libc
    {
        public const int IN_NONBLOCK = 0x800;        // O_NONBLOCK
        public const int IN_CLOEXEC = 0x80000;       // O_CLOEXEC
        public const uint IN_MOVED_TO = 0x80;
        public const uint IN_CREATE = 0x100;
        public const uint IN_DELETE_SELF = 0x400;
        public const uint IN_MOVE_SELF = 0x800;
        public const uint IN_Q_OVERFLOW = 0x4000;
        public const uint IN_IGNORED = 0x8000;
        public const uint IN_ONLYDIR = 0x01000000;
        public const uint IN_DONT_FOLLOW = 0x02000000;

        /// <summary>struct inotify_event without its name: wd, mask, cookie, len.</summary>
        public const int InotifyEventHeaderSize = 16;

        public const int EFD_NONBLOCK = 0x800;
        public const int EFD_CLOEXEC = 0x80000;

        public const short POLLIN = 1;

        public const int EMFILE = 24;
        public const int ENFILE = 23;
        public const int ENOSYS = 38;
        public const int ENOMEM = 12;

        [StructLayout(LayoutKind.Sequential)]
        public struct PollDescriptor
        {
            public int Fd;
            public short Events;
            public short ReturnedEvents;
        }

        [DllImport(LibC, EntryPoint = "inotify_init1", SetLastError = true)]
        private static extern SafeFileDescriptor inotify_init1_(int flags);

        [DllImport(LibC, EntryPoint = "inotify_add_watch", SetLastError = true)]
        private static extern int inotify_add_watch_(SafeFileDescriptor fd, string path, uint mask);

        [DllImport(LibC, EntryPoint = "inotify_rm_watch", SetLastError = true)]
        private static extern int inotify_rm_watch_(SafeFileDescriptor fd, int watch);

        [DllImport(LibC, EntryPoint = "eventfd", SetLastError = true)]
        private static extern SafeFileDescriptor eventfd_(uint initialValue, int flags);

        [DllImport(LibC, EntryPoint = "poll", SetLastError = true)]
        private static extern int poll_(PollDescriptor* descriptors, UIntPtr count, int timeoutMilliseconds);

        [DllImport(LibC, EntryPoint = "read", SetLastError = true)]
        private static extern IntPtr read_(SafeFileDescriptor fd, byte* buffer, UIntPtr count);

        [DllImport(LibC, EntryPoint = "write", SetLastError = true)]
        private static extern IntPtr write_(SafeFileDescriptor fd, byte* buffer, UIntPtr count);

        /// <summary>A new inotify instance, non-blocking and closed on exec.</summary>
        public static SafeFileDescriptor InotifyInit()
        {
            SafeFileDescriptor fd = inotify_init1_(IN_NONBLOCK | IN_CLOEXEC);
            if (fd.IsInvalid)
            {
                int errno = Marshal.GetLastWin32Error();
                fd.Dispose();
                throw new NativeException("inotify_init1", errno, null);
            }

            return fd;
        }

        /// <summary>Adds (or changes) the watch on <paramref name="path"/>; returns its watch descriptor.</summary>
        public static int InotifyAddWatch(SafeFileDescriptor fd, string path, uint mask)
        {
            int watch = inotify_add_watch_(fd, path, mask);
            if (watch < 0)
            {
                throw new NativeException("inotify_add_watch", Marshal.GetLastWin32Error(), path);
            }

            return watch;
        }

        /// <summary>Removes a watch; one the kernel already dropped (EINVAL) is not an error.</summary>
        public static void InotifyRemoveWatch(SafeFileDescriptor fd, int watch) => inotify_rm_watch_(fd, watch);

        /// <summary>A new eventfd counter at 0, non-blocking and closed on exec.</summary>
        public static SafeFileDescriptor EventFd()
        {
            SafeFileDescriptor fd = eventfd_(0, EFD_NONBLOCK | EFD_CLOEXEC);
            if (fd.IsInvalid)
            {
                int errno = Marshal.GetLastWin32Error();
                fd.Dispose();
                throw new NativeException("eventfd", errno, null);
            }

            return fd;
        }

        /// <summary>Adds 1 to an eventfd counter, which makes it readable.</summary>
        public static void EventFdSignal(SafeFileDescriptor fd)
        {
            ulong one = 1;
            write_(fd, (byte*)&one, (UIntPtr)sizeof(ulong));
        }

        /// <summary>
        /// Reads what a non-blocking descriptor has into <paramref name="buffer"/>: the byte count, or 0 when
        /// there is nothing to read now (EAGAIN).
        /// </summary>
        public static int ReadAvailable(SafeFileDescriptor fd, byte* buffer, int count)
        {
            while (true)
            {
                long result = (long)read_(fd, buffer, (UIntPtr)count);
                if (result >= 0)
                {
                    return (int)result;
                }

                int errno = Marshal.GetLastWin32Error();
                if (errno == EINTR)
                {
                    continue;
                }

                if (errno == EAGAIN)
                {
                    return 0;
                }

                throw new NativeException("read", errno, null);
            }
        }

        /// <summary>
        /// Sleeps until one of the descriptors is readable or the timeout passes. Returns false on timeout
        /// and on an interrupting signal (the caller looks again either way).
        /// </summary>
        public static bool Poll(PollDescriptor* descriptors, int count, int timeoutMilliseconds)
        {
            int result = poll_(descriptors, (UIntPtr)count, timeoutMilliseconds);
            if (result < 0)
            {
                int errno = Marshal.GetLastWin32Error();
                if (errno == EINTR)
                {
                    return false;
                }

                throw new NativeException("poll", errno, null);
            }

            return result > 0;
        }
    }
}
