using System;
using System.IO;
using System.IO.MemoryMappedFiles;
using System.Threading;
using Xunit;

namespace PSSharedMemory.Engine.Tests
{
    /// <summary>
    /// Watches a segment's header through a mapping of its own, as another process would. Tests use the
    /// waiter counts as a handshake: a count of one means the waiter is about to sleep on its wait word.
    /// </summary>
    internal sealed unsafe class HeaderProbe : IDisposable
    {
        private readonly MemoryMappedViewAccessor _view;
        private readonly byte* _base;

        public HeaderProbe(string name)
        {
            // Only the view is kept: on Unix the stream holds a shared flock while open, which the segment's
            // own lock (an exclusive flock) would wait on.
            using (var stream = new FileStream(SegmentStore.For(SharedMemoryScope.User).PathOf(name), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (MemoryMappedFile file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true))
            {
                _view = file.CreateViewAccessor(0, SegmentLayout.HeaderSize, MemoryMappedFileAccess.Read);
            }

            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _base = pointer + _view.PointerOffset;
        }

        public int LockWaiters => Volatile.Read(ref *(int*)(_base + SegmentLayout.LockWaitersOffset));

        public int ChangeWaiters => Volatile.Read(ref *(int*)(_base + SegmentLayout.ChangeWaitersOffset));

        public int Int32At(int offset) => Volatile.Read(ref *(int*)(_base + offset));

        /// <summary>Spins until <paramref name="condition"/> holds; fails loudly after a generous minute.</summary>
        public static void SpinUntil(Func<bool> condition, string what)
        {
            Assert.True(SpinWait.SpinUntil(condition, TimeSpan.FromSeconds(60)), $"timed out waiting until {what}");
        }

        public void Dispose()
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
    }
}
