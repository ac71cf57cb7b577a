using System;
using System.Runtime.InteropServices;

namespace PSSharedMemory.Engine.Native
{
    /// <summary>A Unix file descriptor, closed with close(2).</summary>
    internal sealed class SafeFileDescriptor : SafeHandle
    {
        public SafeFileDescriptor() : base(new IntPtr(-1), ownsHandle: true)
        {
        }

        public override bool IsInvalid => handle.ToInt64() < 0;

        public int Fd => (int)handle.ToInt64();

        internal void SetRaw(IntPtr fd) => SetHandle(fd);

        protected override bool ReleaseHandle() => Libc.CloseRaw((int)handle.ToInt64()) == 0;
    }

    /// <summary>A shared mapping made with mmap(2), released with munmap(2).</summary>
    internal sealed class SafeMappedView : SafeHandle
    {
        public SafeMappedView() : base(IntPtr.Zero, ownsHandle: true)
        {
        }

        public long Length { get; private set; }

        public override bool IsInvalid => handle == IntPtr.Zero || handle == new IntPtr(-1);

        internal void SetMapping(IntPtr address, long length)
        {
            SetHandle(address);
            Length = length;
        }

        protected override bool ReleaseHandle() => Libc.MunmapRaw(handle, new UIntPtr((ulong)Length)) == 0;
    }
}
