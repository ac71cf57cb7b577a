using System;
using System.Globalization;
using System.Threading;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// Linux and macOS. Segments are files in a directory on tmpfs (Linux: /dev/shm) or in /tmp (macOS,
    /// which has no /dev/shm and limits shm_open names to about 30 bytes), mapped shared. The per-user
    /// directory is pssm-&lt;uid&gt; with mode 0700; the global one is pssm-global with mode 1777.
    /// </summary>
    internal sealed unsafe class UnixSegmentStore : SegmentStore
    {
        private readonly uint _uid;

        public UnixSegmentStore(SharedMemoryScope scope, string root)
        {
            Scope = scope;
            _uid = Libc.GetEffectiveUserId();
            if (root.Length == 0)
            {
                root = Libc.IsMacOS ? "/tmp" : "/dev/shm";
            }

            Directory = System.IO.Path.Combine(root, scope == SharedMemoryScope.User
                ? "pssm-" + _uid.ToString(CultureInfo.InvariantCulture)
                : "pssm-global");
        }

        public override SharedMemoryScope Scope { get; }

        public override string Directory { get; }

        // APFS and HFS+ ignore case unless formatted otherwise.
        protected override bool FoldsCase => Libc.IsMacOS;

        public override SegmentMapping Create(string name, long fileLength, int permissions, Action<SegmentMapping> initialize)
        {
            EnsureDirectory(name);
            string finalPath = PathOf(name);
            string tempPath = System.IO.Path.Combine(Directory,
                "." + name + "." + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture) + ".creating");

            SafeFileDescriptor fd = Libc.Open(tempPath, Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, permissions);
            bool published = false;
            try
            {
                // open(2) applies the umask; the requested mode is set exactly.
                Libc.Fchmod(fd, permissions);
                Libc.Ftruncate(fd, fileLength);
                if (!Libc.IsMacOS)
                {
                    try
                    {
                        Libc.Fallocate(fd, fileLength);
                    }
                    catch (NativeException e) when (e.ErrorCode == Libc.EOPNOTSUPP || e.ErrorCode == Libc.EINVAL)
                    {
                        // A file system without fallocate: the pages are then reserved on first touch.
                    }
                }

                var mapping = new UnixSegmentMapping(fd, Libc.Mmap(fd, fileLength));
                try
                {
                    initialize(mapping);

                    // link(2) publishes the fully initialised file, and fails rather than replace an existing one.
                    Libc.Link(tempPath, finalPath);
                    published = true;
                    return mapping;
                }
                catch
                {
                    mapping.Dispose();
                    throw;
                }
            }
            catch
            {
                if (!published)
                {
                    fd.Dispose();
                }

                throw;
            }
            finally
            {
                try
                {
                    Libc.Unlink(tempPath);
                }
                catch (NativeException)
                {
                    // Already gone; nothing to clean up.
                }
            }
        }

        public override SegmentMapping Open(string name)
        {
            string path = PathOf(name);
            SafeFileDescriptor fd = Libc.Open(path, Libc.O_RDWR | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
            try
            {
                Libc.FileStatus status = Libc.Fstat(fd);
                if ((status.Mode & Libc.S_IFMT) != Libc.S_IFREG)
                {
                    throw new SharedMemoryException(SharedMemoryErrorCode.Corrupted, name,
                        $"'{path}' is not a regular file, so it is not a shared memory segment. Remove it by hand.");
                }

                if (Scope == SharedMemoryScope.User && status.Uid != _uid)
                {
                    throw new SharedMemoryException(SharedMemoryErrorCode.PermissionDenied, name,
                        $"The segment file '{path}' belongs to user {status.Uid}, not to you ({_uid}); it was not opened. Remove it by hand if it should not be there.");
                }

                if (status.Size < SegmentLayout.HeaderSize)
                {
                    throw new SharedMemoryException(SharedMemoryErrorCode.Corrupted, name,
                        $"The segment file '{path}' is {status.Size} bytes long, shorter than the {SegmentLayout.HeaderSize}-byte header. Remove it with Remove-SharedMemory and create it again.");
                }

                return new UnixSegmentMapping(fd, Libc.Mmap(fd, status.Size));
            }
            catch
            {
                fd.Dispose();
                throw;
            }
        }

        public override bool Unlink(string name)
        {
            try
            {
                Libc.Unlink(PathOf(name));
                return true;
            }
            catch (NativeException e) when (e.ErrorCode == Libc.ENOENT)
            {
                return false;
            }
        }

        private void EnsureDirectory(string name)
        {
            int mode = Scope == SharedMemoryScope.User ? 0x1C0 /* 0700 */ : 0x3FF /* 01777 */;
            bool made;
            try
            {
                made = Libc.Mkdir(Directory, mode);
            }
            catch (NativeException e)
            {
                string parent = System.IO.Path.GetDirectoryName(Directory) ?? Directory;
                throw new SharedMemoryException(
                    e.ErrorCode == Libc.EACCES || e.ErrorCode == Libc.EPERM ? SharedMemoryErrorCode.PermissionDenied : SharedMemoryErrorCode.NativeError,
                    name,
                    $"The segment store '{Directory}' could not be created (mkdir failed with error {e.ErrorCode}). Check that '{parent}' exists and is writable, or point {StoreEnvironmentVariable} at a directory that is.",
                    e.Function, e.ErrorCode, e);
            }

            if (made)
            {
                Libc.Chmod(Directory, mode);
            }

            Libc.FileStatus? status = Libc.Lstat(Directory);
            if (status is null || (status.Value.Mode & Libc.S_IFMT) != Libc.S_IFDIR)
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.PermissionDenied, name,
                    $"The segment store '{Directory}' is not a directory. Remove whatever is there, or point {StoreEnvironmentVariable} at another directory.");
            }

            if (Scope == SharedMemoryScope.User && (status.Value.Uid != _uid || (status.Value.Mode & 0x3F) != 0))
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.PermissionDenied, name,
                    $"The segment store '{Directory}' must belong to you (uid {_uid}) with mode 0700, but belongs to uid {status.Value.Uid} with mode {Convert.ToString(status.Value.Mode & 0xFFF, 8)}. Remove it, or point {StoreEnvironmentVariable} at another directory.");
            }

            if (Scope == SharedMemoryScope.Global && status.Value.Uid != _uid && status.Value.Uid != 0 && (status.Value.Mode & 0x200) == 0)
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.PermissionDenied, name,
                    $"The global segment store '{Directory}' belongs to uid {status.Value.Uid} and is not sticky (mode 1777), so another user could replace your segments. Ask that user or root to remove it.");
            }
        }
    }

    internal sealed unsafe class UnixSegmentMapping : SegmentMapping
    {
        private readonly SafeFileDescriptor _fd;
        private readonly SafeMappedView _view;
        private readonly byte* _base;

        public UnixSegmentMapping(SafeFileDescriptor fd, SafeMappedView view)
        {
            _fd = fd;
            _view = view;
            _base = (byte*)view.DangerousGetHandle();
        }

        public override byte* Base => _base;

        public override long Length => _view.Length;

        public override bool TryLock() => Libc.TryFlockExclusive(_fd);

        public override void Unlock() => Libc.Funlock(_fd);

        public override void Wait(int* word, int expected, int timeoutMilliseconds)
        {
            if (Libc.FutexSupported)
            {
                Libc.FutexWait(word, expected, timeoutMilliseconds);
                return;
            }

            // macOS has no futex that works across processes; poll the word.
            int waited = 0;
            while (Volatile.Read(ref *word) == expected && waited < timeoutMilliseconds)
            {
                Thread.Sleep(1);
                waited++;
            }
        }

        public override void WakeAll(int* word)
        {
            if (Libc.FutexSupported)
            {
                Libc.FutexWakeAll(word);
            }
        }

        public override void AddRef()
        {
            bool viewAdded = false;
            bool fdAdded = false;
            try
            {
                _view.DangerousAddRef(ref viewAdded);
                _fd.DangerousAddRef(ref fdAdded);
            }
            catch
            {
                if (fdAdded)
                {
                    _fd.DangerousRelease();
                }

                if (viewAdded)
                {
                    _view.DangerousRelease();
                }

                throw;
            }
        }

        public override void Release()
        {
            _fd.DangerousRelease();
            _view.DangerousRelease();
        }

        public override void Dispose()
        {
            _view.Dispose();
            _fd.Dispose();
        }
    }
}
