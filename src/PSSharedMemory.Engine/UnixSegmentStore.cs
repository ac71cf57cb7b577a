using System;
using System.Globalization;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// Linux and macOS. Segments are files in a directory on tmpfs (Linux: /dev/shm) or in /tmp (macOS,
    /// which has no /dev/shm and limits shm_open names to about 30 bytes), mapped shared. The per-user
    /// directory is pssm-&lt;uid&gt; with mode 0700; the global one is pssm-global with mode 1777.
    /// </summary>
    /// <remarks>
    /// Every operation opens the store directory with O_DIRECTORY|O_NOFOLLOW, checks who owns it and its
    /// mode on that descriptor, and then reaches segment files only relative to it (openat, linkat,
    /// unlinkat). So a store that is a symbolic link, or that someone swaps between the check and the use,
    /// is never followed. See "Trust model" in docs/segment-format.md.
    /// </remarks>
    internal sealed unsafe partial class UnixSegmentStore : SegmentStore
    {
        private static readonly int s_processId = System.Diagnostics.Process.GetCurrentProcess().Id;

        private readonly uint _uid;
        private readonly CreationLeftovers _leftovers;

        public UnixSegmentStore(SharedMemoryScope scope, string root)
        {
            if (IntPtr.Size != 8)
            {
                // off_t, time_t and struct stat are bound with their 64-bit layouts; a 32-bit process would pass wrong arguments.
                throw new PlatformNotSupportedException(
                    "Shared memory segments on Linux and macOS need a 64-bit process; this process is 32-bit. Use a 64-bit .NET or PowerShell.");
            }

            Scope = scope;
            _uid = Libc.GetEffectiveUserId();
            if (root.Length == 0)
            {
                root = Libc.IsMacOS ? "/tmp" : "/dev/shm";
            }

            Directory = System.IO.Path.Combine(root, scope == SharedMemoryScope.User
                ? "pssm-" + _uid.ToString(CultureInfo.InvariantCulture)
                : "pssm-global");
            _leftovers = new CreationLeftovers(Directory);
        }

        public override SharedMemoryScope Scope { get; }

        public override string Directory { get; }

        // APFS and HFS+ ignore case unless formatted otherwise.
        protected override bool FoldsCase => Libc.IsMacOS;

        public override SegmentMapping Create(string name, long fileLength, int permissions, Action<SegmentMapping> initialize)
        {
            using SafeFileDescriptor directory = OpenDirectory(name, create: true)!;
            _leftovers.RemoveFrom(directory);
            string finalName = FileNameOf(name) + FileExtension;
            string tempName = "." + FileNameOf(name) + "." + s_processId.ToString(CultureInfo.InvariantCulture) + "."
                + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture) + CreatingExtension;

            SafeFileDescriptor fd = Libc.OpenAt(directory, tempName, Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, permissions);
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

                var mapping = new UnixSegmentMapping(fd, Libc.Mmap(fd, fileLength), Libc.Fstat(fd), readOnly: false, checkAllocation: Libc.IsOnTmpfs(fd));
                try
                {
                    initialize(mapping);

                    // link(2) publishes the fully initialised file, and fails rather than replace an existing one.
                    Libc.LinkAt(directory, tempName, finalName);
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
                    Libc.UnlinkAt(directory, tempName);
                }
                catch (NativeException)
                {
                    // Already gone; nothing to clean up.
                }
            }
        }

        public override SegmentMapping Open(string name)
        {
            using SafeFileDescriptor? directory = OpenDirectory(name, create: false);
            if (directory is null)
            {
                throw new NativeException("open", Libc.ENOENT, Directory);
            }

            string fileName = FileNameOf(name) + FileExtension;
            string path = System.IO.Path.Combine(Directory, fileName);
            bool readOnly = false;
            SafeFileDescriptor fd;
            try
            {
                fd = Libc.OpenAt(directory, fileName, Libc.O_RDWR | Libc.O_NOFOLLOW | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
            }
            catch (NativeException e) when (e.ErrorCode == Libc.EACCES)
            {
                // Shared with this user for reading only (for example mode 0640 in the global scope).
                fd = OpenFile(directory, fileName, path, name, Libc.O_RDONLY);
                readOnly = true;
            }
            catch (NativeException e) when (e.ErrorCode == Libc.ELOOP)
            {
                throw SymbolicLinkSegment(name, path);
            }

            try
            {
                Libc.FileStatus status = Libc.Fstat(fd);
                CheckSegmentFile(name, path, status);
                bool checkAllocation = Libc.IsOnTmpfs(fd);
                if (checkAllocation && status.Blocks * 512 < status.Size)
                {
                    if (readOnly)
                    {
                        throw new SharedMemoryException(SharedMemoryErrorCode.Corrupted, name,
                            $"The segment file '{path}' is sparse: only {SharedMemoryException.Bytes(status.Blocks * 512)} of its {SharedMemoryException.Bytes(status.Size)} bytes have memory, so reading it could fail when the store is full. Its owner can repair it by opening it, or remove it.");
                    }

                    // Reserve the pages now, so a full store fails here and never with SIGBUS in a later read.
                    Libc.Fallocate(fd, status.Size);
                }

                return new UnixSegmentMapping(fd, Libc.Mmap(fd, status.Size, readOnly), status, readOnly, checkAllocation);
            }
            catch
            {
                fd.Dispose();
                throw;
            }
        }

        public override SegmentMapping? OpenForRemoval(string name, out bool exists)
        {
            // An untrusted store fails here, before anything in it is touched.
            using (SafeFileDescriptor? directory = OpenDirectory(name, create: false))
            {
                if (directory is null)
                {
                    exists = false;
                    return null;
                }
            }

            try
            {
                SegmentMapping mapping = Open(name);
                exists = true;
                return mapping;
            }
            catch (NativeException e) when (e.ErrorCode == Libc.ENOENT)
            {
                exists = false;
                return null;
            }
            catch (SharedMemoryException e) when (e.Code != SharedMemoryErrorCode.PermissionDenied)
            {
                // Not a usable segment (a symbolic link, a shrunk, sparse or foreign file): its name can still go.
                exists = true;
                return null;
            }
        }

        public override bool Unlink(string name)
        {
            using SafeFileDescriptor? directory = OpenDirectory(name, create: false);
            if (directory is null)
            {
                return false;
            }

            try
            {
                Libc.UnlinkAt(directory, FileNameOf(name) + FileExtension);
            }
            catch (NativeException e) when (e.ErrorCode == Libc.ENOENT)
            {
                return false;
            }

            _leftovers.RemoveFrom(directory);
            return true;
        }

        public override bool Exists(string name)
        {
            if (OpenDirectoryIfPresent() is not SafeFileDescriptor directory)
            {
                return false;
            }

            using (directory)
            {
                return Libc.Lstat(System.IO.Path.Combine(Directory, FileNameOf(name) + FileExtension)) is not null;
            }
        }

        public override bool IsOrphaned(string name, SegmentMapping mapping, long mappedLength, out bool intact)
        {
            intact = false;

            // The store is checked again too, so one that became untrusted since the open fails here. An
            // lstat of its path is enough: this decides whether to keep using a file opened and checked
            // earlier, and opens nothing.
            Libc.FileStatus? store = Libc.Lstat(Directory);
            if (store is null)
            {
                return true;
            }

            if ((store.Value.Mode & Libc.S_IFMT) != Libc.S_IFDIR)
            {
                throw UntrustedStoreType(name, (store.Value.Mode & Libc.S_IFMT) == Libc.S_IFLNK, null);
            }

            CheckDirectory(name, store.Value);
            Libc.FileStatus? named = Libc.Lstat(PathOf(name));
            var unixMapping = (UnixSegmentMapping)mapping;
            if (named is null || !named.Value.IsSameFile(unixMapping.Identity))
            {
                return true;
            }

            // The name leads to the open file, so this status is the file's own: the fstat before the next
            // access to the mapping would tell nothing more.
            intact = unixMapping.Backs(named.Value, mappedLength);
            return false;
        }
    }
}
