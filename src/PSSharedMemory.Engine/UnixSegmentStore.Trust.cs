using System;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// Whether a Unix store and its files may be trusted (docs/segment-format.md, "Trust model"): the store
    /// directory opened without following a symbolic link and checked for its owner and mode on that
    /// descriptor, and segment files checked to be regular files of the right owner.
    /// </summary>
    internal sealed unsafe partial class UnixSegmentStore
    {
        private const int OwnerOnlyMode = 0x1C0;     // 0700
        private const int SharedStickyMode = 0x3FF;  // 01777
        private const int StickyBit = 0x200;
        private const int GroupOrOtherBits = 0x3F;   // 0077
        private const int GroupOrOtherWrite = 0x12;  // 0022

        public override void CheckTrusted()
        {
            OpenDirectoryIfPresent()?.Dispose();
        }

        /// <summary>The trusted store directory, or null when it does not exist yet.</summary>
        private SafeFileDescriptor? OpenDirectoryIfPresent() => OpenDirectory(null, create: false);

        /// <summary>
        /// Opens the store directory without following a symbolic link and checks its owner and mode.
        /// Returns null when it does not exist and <paramref name="create"/> is false.
        /// </summary>
        private SafeFileDescriptor? OpenDirectory(string? name, bool create)
        {
            bool made = false;
            if (create)
            {
                int mode = Scope == SharedMemoryScope.User ? OwnerOnlyMode : SharedStickyMode;
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
            }

            SafeFileDescriptor directory;
            try
            {
                directory = Libc.Open(Directory, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
            }
            catch (NativeException e) when (e.ErrorCode == Libc.ENOENT && !create)
            {
                return null;
            }
            catch (NativeException e) when (e.ErrorCode == Libc.ELOOP || e.ErrorCode == Libc.ENOTDIR)
            {
                bool link = Libc.Lstat(Directory) is Libc.FileStatus status && (status.Mode & Libc.S_IFMT) == Libc.S_IFLNK;
                throw UntrustedStoreType(name, link, e);
            }

            try
            {
                if (made)
                {
                    // mkdir(2) applies the umask; set the mode exactly, on the directory just checked.
                    Libc.Fchmod(directory, Scope == SharedMemoryScope.User ? OwnerOnlyMode : SharedStickyMode);
                }

                CheckDirectory(name, Libc.Fstat(directory));
                return directory;
            }
            catch
            {
                directory.Dispose();
                throw;
            }
        }

        private SharedMemoryException UntrustedStoreType(string? name, bool symbolicLink, NativeException? cause) =>
            new SharedMemoryException(symbolicLink ? SharedMemoryErrorCode.SymbolicLink : SharedMemoryErrorCode.WrongFileType, name,
                symbolicLink
                    ? $"The segment store '{Directory}' is a symbolic link, which is never followed: whoever made it could read and change your segments. Remove the link, or point {StoreEnvironmentVariable} at a real directory."
                    : $"The segment store '{Directory}' is not a directory. Remove whatever is there, or point {StoreEnvironmentVariable} at another directory.",
                cause?.Function, cause?.ErrorCode ?? 0, cause);

        private void CheckDirectory(string? name, Libc.FileStatus status)
        {
            int mode = status.Mode & 0xFFF;
            if (Scope == SharedMemoryScope.User)
            {
                if (status.Uid != _uid)
                {
                    throw new SharedMemoryException(SharedMemoryErrorCode.WrongOwner, name,
                        $"The segment store '{Directory}' belongs to user {status.Uid}, not to you ({_uid}), so that user could read and change your segments; it was not used. Remove it, or point {StoreEnvironmentVariable} at a directory of your own.");
                }

                if ((mode & GroupOrOtherBits) != 0)
                {
                    throw new SharedMemoryException(SharedMemoryErrorCode.UnsafePermissions, name,
                        $"The segment store '{Directory}' has mode {Octal(mode)}, which lets other users into it; it must be 0700. Run 'chmod 700 {Directory}', or remove it.");
                }

                return;
            }

            if (status.Uid != 0 && status.Uid != _uid)
            {
                // The owner of a directory may delete and replace any file in it, sticky bit or not.
                throw new SharedMemoryException(SharedMemoryErrorCode.WrongOwner, name,
                    $"The global segment store '{Directory}' belongs to user {status.Uid}, who could therefore replace any global segment; it was not used. "
                    + $"An administrator should remove it and create it owned by root: 'install -d -m 1777 -o root -g root {Directory}', or at every boot with the systemd-tmpfiles line 'd {Directory} 1777 root root -'.");
            }

            if ((mode & GroupOrOtherWrite) != 0 && (mode & StickyBit) == 0)
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.UnsafePermissions, name,
                    $"The global segment store '{Directory}' has mode {Octal(mode)}: others may write to it but it is not sticky, so any user could delete or replace your segments. It must have mode 1777: run 'chmod 1777 {Directory}' as its owner.");
            }
        }

        private SafeFileDescriptor OpenFile(SafeFileDescriptor directory, string fileName, string path, string name, int access)
        {
            try
            {
                return Libc.OpenAt(directory, fileName, access | Libc.O_NOFOLLOW | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
            }
            catch (NativeException e) when (e.ErrorCode == Libc.ELOOP)
            {
                throw SymbolicLinkSegment(name, path);
            }
        }

        private void CheckSegmentFile(string name, string path, Libc.FileStatus status)
        {
            if ((status.Mode & Libc.S_IFMT) != Libc.S_IFREG)
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.WrongFileType, name,
                    $"'{path}' is not a regular file, so it is not a shared memory segment; it was not used. Remove it.");
            }

            if (Scope == SharedMemoryScope.User && status.Uid != _uid)
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.WrongOwner, name,
                    $"The segment file '{path}' belongs to user {status.Uid}, not to you ({_uid}); it was not opened. Remove it if it should not be there.");
            }

            if (status.Size < SegmentLayout.HeaderSize)
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.Corrupted, name,
                    $"The segment file '{path}' is {status.Size} bytes long, shorter than the {SegmentLayout.HeaderSize}-byte header. Remove the segment and create it again.");
            }
        }

        private SharedMemoryException SymbolicLinkSegment(string name, string path) =>
            new SharedMemoryException(SharedMemoryErrorCode.SymbolicLink, name,
                $"'{path}' is a symbolic link, which is never followed: a segment is a regular file in the store. Remove the link.");

        private static string Octal(int mode) => "0" + Convert.ToString(mode, 8);
    }
}
