using System;
using System.Collections.Generic;
using System.IO;
using System.IO.MemoryMappedFiles;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// Windows. Segments are files in a per-user folder (%LOCALAPPDATA%\PSSharedMemory\Segments) or, in the
    /// global scope, in %ProgramData%\PSSharedMemory\Segments, mapped with a file-backed mapping so that a segment outlives
    /// the processes that use it, as on Linux. Change and unlock wake-ups use named semaphores in the
    /// Local\ namespace. Written with care but not run by this project's own test machines.
    /// </summary>
    internal sealed class WindowsSegmentStore : SegmentStore
    {
        // Win32 error codes (winerror.h) this store reports.
        private const int ErrorFileNotFound = 2;
        private const int ErrorPathNotFound = 3;
        private const int ErrorAccessDenied = 5;
        internal const int ErrorHandleDiskFull = 39;
        private const int ErrorFileExists = 80;
        internal const int ErrorDiskFull = 112;
        private const int ErrorAlreadyExists = 183;

        public WindowsSegmentStore(SharedMemoryScope scope, string root)
        {
            Scope = scope;
            if (root.Length == 0)
            {
                root = Environment.GetFolderPath(scope == SharedMemoryScope.User
                    ? Environment.SpecialFolder.LocalApplicationData
                    : Environment.SpecialFolder.CommonApplicationData);
                Directory = Path.Combine(root, "PSSharedMemory", "Segments");
            }
            else
            {
                Directory = Path.Combine(root, scope == SharedMemoryScope.User ? "pssm-" + Environment.UserName : "pssm-global");
            }
        }

        public override SharedMemoryScope Scope { get; }

        public override string Directory { get; }

        protected override bool FoldsCase => true;

        protected override bool ReservesDeviceNames => true;

        public override SegmentMapping Create(string name, long fileLength, int permissions, Action<SegmentMapping> initialize)
        {
            System.IO.Directory.CreateDirectory(Directory);
            string finalPath = PathOf(name);
            string tempPath = TemporaryPath(name, ".creating");
            FileStream stream = OpenStream(tempPath, FileMode.CreateNew, name);
            bool published = false;
            try
            {
                try
                {
                    // SetLength allocates the file's space now, so a full disk fails here.
                    stream.SetLength(fileLength);
                }
                catch (IOException e) when ((e.HResult & 0xFFFF) == ErrorDiskFull || (e.HResult & 0xFFFF) == ErrorHandleDiskFull)
                {
                    throw NativeException.FromWin32("SetEndOfFile", e.HResult & 0xFFFF, tempPath);
                }

                var mapping = new WindowsSegmentMapping(stream, name, Scope);
                try
                {
                    initialize(mapping);

                    // A move that does not replace: fails if the name was taken meanwhile.
                    File.Move(tempPath, finalPath);
                    published = true;
                    return mapping;
                }
                catch (IOException) when (File.Exists(finalPath))
                {
                    mapping.Dispose();
                    throw NativeException.FromWin32("MoveFile", ErrorAlreadyExists, finalPath);
                }
                catch
                {
                    mapping.Dispose();
                    throw;
                }
            }
            finally
            {
                if (!published)
                {
                    stream.Dispose();
                    TryDelete(tempPath);
                }
            }
        }

        public override SegmentMapping Open(string name)
        {
            string path = PathOf(name);
            FileStream stream = OpenStream(path, FileMode.Open, name);
            try
            {
                if (stream.Length < SegmentLayout.HeaderSize)
                {
                    throw new SharedMemoryException(SharedMemoryErrorCode.Corrupted, name,
                        $"The segment file '{path}' is {stream.Length} bytes long, shorter than the {SegmentLayout.HeaderSize}-byte header. Remove the segment and create it again.");
                }

                return new WindowsSegmentMapping(stream, name, Scope);
            }
            catch
            {
                stream.Dispose();
                throw;
            }
        }

        public override bool Unlink(string name)
        {
            string path = PathOf(name);
            if (!File.Exists(path))
            {
                return false;
            }

            // Renaming first frees the name at once, even while other processes keep the file open
            // (a plain delete would leave it pending until the last handle closes).
            string tombstone = TemporaryPath(name, ".removed");
            try
            {
                File.Move(path, tombstone);
            }
            catch (FileNotFoundException)
            {
                return false;
            }

            TryDelete(tombstone);
            return true;
        }

        public override StoreWatch WatchForCreation(string name) => new DirectoryStoreWatch(Directory, FileNameOf(name) + FileExtension);

        /// <summary>
        /// A unique hidden file name beside the segment's. Built from the file name, not the segment name, so it is
        /// never a device name and never longer than 255 characters.
        /// </summary>
        private string TemporaryPath(string name, string suffix) =>
            Path.Combine(Directory, "." + FileNameOf(name) + "." + Guid.NewGuid().ToString("N") + suffix);

        /// <summary>What a failed Win32 call of this store means; the store reports Win32 codes only.</summary>
        public override SharedMemoryErrorCode Classify(NativeException e)
        {
            if (!e.IsWin32)
            {
                return base.Classify(e);
            }

            switch (e.ErrorCode)
            {
                case ErrorFileNotFound:
                case ErrorPathNotFound:
                    return SharedMemoryErrorCode.NotFound;
                case ErrorFileExists:
                case ErrorAlreadyExists:
                    return SharedMemoryErrorCode.AlreadyExists;
                case ErrorAccessDenied:
                    return SharedMemoryErrorCode.PermissionDenied;
                case ErrorDiskFull:
                case ErrorHandleDiskFull:
                    return SharedMemoryErrorCode.OutOfSpace;
                default:
                    return SharedMemoryErrorCode.NativeError;
            }
        }

        private static FileStream OpenStream(string path, FileMode mode, string name)
        {
            try
            {
                return new FileStream(path, mode, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 4096, FileOptions.None);
            }
            catch (FileNotFoundException e)
            {
                throw NativeException.FromWin32("CreateFile", ErrorFileNotFound, path + ": " + e.Message);
            }
            catch (DirectoryNotFoundException)
            {
                throw NativeException.FromWin32("CreateFile", ErrorPathNotFound, path);
            }
            catch (UnauthorizedAccessException)
            {
                throw NativeException.FromWin32("CreateFile", ErrorAccessDenied, path);
            }
            catch (IOException) when (mode == FileMode.CreateNew && File.Exists(path))
            {
                throw NativeException.FromWin32("CreateFile", ErrorFileExists, path);
            }
        }

        private static void TryDelete(string path)
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
                // Still open elsewhere; Windows deletes it when the last handle closes.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        /// <summary>A short, stable kernel-object name for a segment (object names are limited to MAX_PATH).</summary>
        internal static string KernelObjectName(string segmentName, SharedMemoryScope scope, string purpose)
        {
            string prefix = scope == SharedMemoryScope.User ? @"Local\PSSharedMemory." + Environment.UserName + "." : @"Global\PSSharedMemory.";
            using (SHA256 sha = SHA256.Create())
            {
                byte[] hash = sha.ComputeHash(Encoding.UTF8.GetBytes(segmentName));
                var builder = new StringBuilder(prefix);
                for (int i = 0; i < 8; i++)
                {
                    builder.Append(hash[i].ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                }

                return builder.Append('.').Append(purpose).ToString();
            }
        }
    }
}
