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
    /// One segment file mapped on Windows: the file stream and its views (a new one after each grow), the
    /// byte-range lock, and the named semaphores that wake waiters on the header's words.
    /// </summary>
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
