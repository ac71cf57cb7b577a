using System.Threading;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// One segment file mapped on Linux or macOS: the descriptor and the shared mapping, the file lock
    /// (flock), the wait words (futex on Linux, polling on macOS), and the check that the file still backs
    /// the whole mapping.
    /// </summary>
    internal sealed unsafe class UnixSegmentMapping : SegmentMapping
    {
        private readonly SafeFileDescriptor _fd;
        private readonly SafeMappedView _view;
        private readonly byte* _base;
        private readonly bool _readOnly;
        private readonly bool _checkAllocation;

        public UnixSegmentMapping(SafeFileDescriptor fd, SafeMappedView view, Libc.FileStatus identity, bool readOnly, bool checkAllocation)
        {
            _fd = fd;
            Identity = identity;
            _view = view;
            _base = (byte*)view.DangerousGetHandle();
            _readOnly = readOnly;
            _checkAllocation = checkAllocation;
        }

        public override byte* Base => _base;

        public override long Length => _view.Length;

        public override bool IsReadOnly => _readOnly;

        public override bool CanWaitForWake => !_readOnly;

        public override bool TryLock() => Libc.TryFlockExclusive(_fd);

        public override void Unlock() => Libc.Funlock(_fd);

        /// <summary>The file's status when it was opened; its device and inode never change while it is open.</summary>
        public Libc.FileStatus Identity { get; }

        public override long FileLength() => Libc.Fstat(_fd).Size;

        public override void Extend(long fileLength)
        {
            long old = Libc.Fstat(_fd).Size;
            if (old >= fileLength)
            {
                return;
            }

            Libc.Ftruncate(_fd, fileLength);
            if (Libc.IsMacOS)
            {
                return;
            }

            try
            {
                Libc.Fallocate(_fd, old, fileLength - old);
            }
            catch (NativeException e) when (e.ErrorCode == Libc.EOPNOTSUPP || e.ErrorCode == Libc.EINVAL)
            {
                // A file system without fallocate: the pages are then reserved on first touch.
            }
            catch (NativeException)
            {
                // Out of space: no process maps past the old length yet, so it can be restored.
                try
                {
                    Libc.Ftruncate(_fd, old);
                }
                catch (NativeException)
                {
                }

                throw;
            }
        }

        public override MappedRegion MapRegion(long length)
        {
            SafeMappedView view = Libc.Mmap(_fd, length, _readOnly);
            return new MappedRegion((byte*)view.DangerousGetHandle(), length, view, view.Dispose);
        }

        /// <summary>
        /// True when <paramref name="status"/>, a status of this mapping's file, shows it backs
        /// <paramref name="length"/> bytes with nothing for <see cref="CheckIntact(long)"/> to report or repair.
        /// </summary>
        public bool Backs(in Libc.FileStatus status, long length) =>
            status.Size >= length && (!_checkAllocation || status.Blocks * 512 >= length);

        public override string? CheckIntact(long length)
        {
            // Touching a page past the end of the file raises SIGBUS, which .NET cannot catch.
            Libc.FileStatus status = Libc.Fstat(_fd);
            if (status.Size < length)
            {
                return $"its file was cut to {SharedMemoryException.Bytes(status.Size)} bytes, but it needs {SharedMemoryException.Bytes(length)}; some other program changed it";
            }

            if (_checkAllocation && status.Blocks * 512 < length)
            {
                if (_readOnly)
                {
                    return $"its file is sparse (only {SharedMemoryException.Bytes(status.Blocks * 512)} of {SharedMemoryException.Bytes(length)} bytes have memory); some other program changed it";
                }

                Libc.Fallocate(_fd, length);
            }

            return null;
        }

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
