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

        // A P/Invoke declared to return this type gets the C int in a pointer-sized register, with the upper
        // half undefined (zero on x64), so only the low 32 bits are the descriptor: -1 arrives as 0xFFFFFFFF.
        public override bool IsInvalid => unchecked((int)handle.ToInt64()) < 0;

        private int Fd => unchecked((int)handle.ToInt64());

        protected override bool ReleaseHandle() => Libc.CloseRaw(Fd) == 0;
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
