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

    internal sealed unsafe class WindowsSegmentMapping : SegmentMapping
    {
        private readonly FileStream _stream;
        private readonly MemoryMappedFile _file;
        private readonly MemoryMappedViewAccessor _view;
        private readonly byte* _base;
        private readonly long _length;
        private readonly Dictionary<IntPtr, Semaphore> _wakeObjects = new Dictionary<IntPtr, Semaphore>();
        private readonly string _name;
        private readonly SharedMemoryScope _scope;

        public WindowsSegmentMapping(FileStream stream, string name, SharedMemoryScope scope)
        {
            _stream = stream;
            _name = name;
            _scope = scope;
            _length = stream.Length;
            // Capacity 0 is the file's length when the mapping object is made, never less than _length: a
            // growable segment's file may have grown since (a capacity below the length is refused).
            _file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
            _view = _file.CreateViewAccessor(0, _length, MemoryMappedFileAccess.ReadWrite);
            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _base = pointer + _view.PointerOffset;
        }

        public override byte* Base => _base;

        public override long Length => _length;

        public override long FileLength() => _stream.Length;

        public override void Extend(long fileLength)
        {
            long old = _stream.Length;
            if (old >= fileLength)
            {
                return;
            }

            try
            {
                // Lengthening a file that has mapped views is allowed (only cutting one short is refused),
                // and allocates the space now, so a full disk fails here.
                _stream.SetLength(fileLength);
            }
            catch (IOException e) when ((e.HResult & 0xFFFF) == WindowsSegmentStore.ErrorDiskFull || (e.HResult & 0xFFFF) == WindowsSegmentStore.ErrorHandleDiskFull)
            {
                throw NativeException.FromWin32("SetEndOfFile", e.HResult & 0xFFFF, _stream.Name);
            }
        }

        public override MappedRegion MapRegion(long length)
        {
            // A larger file needs a larger file mapping object; views of one file are coherent across them.
            // Capacity 0 is the file's length now, at least `length` (the caller checked), and perhaps more
            // if another process grew it meanwhile: a capacity below the length is refused.
            using MemoryMappedFile file = MemoryMappedFile.CreateFromFile(_stream, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
            MemoryMappedViewAccessor view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            return new MappedRegion(pointer + view.PointerOffset, length, view.SafeMemoryMappedViewHandle, () =>
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
                view.Dispose();
            });
        }

        public override bool TryLock() => Kernel32.TryLockFile(_stream.SafeFileHandle);

        public override void Unlock() => Kernel32.UnlockFile(_stream.SafeFileHandle);

        public override void Wait(int* word, int expected, int timeoutMilliseconds)
        {
            if (Volatile.Read(ref *word) != expected)
            {
                return;
            }

            // Waiters can time out and leave spare counts behind; those cause one extra loop each, never a lost wake-up.
            WakeObject(word).WaitOne(timeoutMilliseconds);
        }

        public override void WakeAll(int* word)
        {
            int waiters = Volatile.Read(ref *(word + 1));
            if (waiters > 0)
            {
                try
                {
                    WakeObject(word).Release(waiters);
                }
                catch (SemaphoreFullException)
                {
                }
            }
        }

        public override WaitHandle? WakeHandle(int* word) => WakeObject(word);

        private Semaphore WakeObject(int* word)
        {
            lock (_wakeObjects)
            {
                if (!_wakeObjects.TryGetValue((IntPtr)word, out Semaphore? semaphore))
                {
                    string purpose = ((long)((byte*)word - _base)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    try
                    {
                        semaphore = new Semaphore(0, int.MaxValue, WindowsSegmentStore.KernelObjectName(_name, _scope, purpose));
                    }
                    catch (UnauthorizedAccessException) when (_scope == SharedMemoryScope.Global)
                    {
                        // Global\ objects may need SeCreateGlobalPrivilege; this session's namespace still
                        // wakes waiters here, and waiters elsewhere fall back to their bounded wait slices.
                        semaphore = new Semaphore(0, int.MaxValue, WindowsSegmentStore.KernelObjectName(_name, SharedMemoryScope.User, purpose));
                    }
                    _wakeObjects[(IntPtr)word] = semaphore;
                }

                return semaphore;
            }
        }

        public override void AddRef()
        {
            bool viewAdded = false;
            bool fileAdded = false;
            try
            {
                _view.SafeMemoryMappedViewHandle.DangerousAddRef(ref viewAdded);
                _stream.SafeFileHandle.DangerousAddRef(ref fileAdded);
            }
            catch
            {
                if (fileAdded)
                {
                    _stream.SafeFileHandle.DangerousRelease();
                }

                if (viewAdded)
                {
                    _view.SafeMemoryMappedViewHandle.DangerousRelease();
                }

                throw;
            }
        }

        public override void Release()
        {
            _stream.SafeFileHandle.DangerousRelease();
            _view.SafeMemoryMappedViewHandle.DangerousRelease();
        }

        public override void Dispose()
        {
            lock (_wakeObjects)
            {
                foreach (Semaphore semaphore in _wakeObjects.Values)
                {
                    semaphore.Dispose();
                }

                _wakeObjects.Clear();
            }

            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _file.Dispose();
            _stream.Dispose();
        }
    }
}
