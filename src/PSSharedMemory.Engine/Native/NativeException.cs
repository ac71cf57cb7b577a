using System;

namespace PSSharedMemory.Engine.Native
{
    /// <summary>
    /// A failed native call: the function, the path it was about, and its error in the error space of
    /// its OS: <see cref="Errno"/> for libc calls, <see cref="Win32Error"/> for Win32 calls. Each store
    /// translates its own (<see cref="SegmentStore.Classify"/>).
    /// </summary>
    internal sealed class NativeException : Exception
    {
        /// <summary>A failed libc call and its errno.</summary>
        public NativeException(string function, int errno, string? path)
            : this(function, errno, isWin32: false, path)
        {
        }

        private NativeException(string function, int errorCode, bool isWin32, string? path)
            : base($"{function} failed with {(isWin32 ? "Win32 error" : "error")} {errorCode}{(path is null ? string.Empty : $" for '{path}'")}.")
        {
            Function = function;
            ErrorCode = errorCode;
            IsWin32 = isWin32;
            Path = path;
        }

        /// <summary>A failed Win32 call and its error code (GetLastError, or the low word of an HRESULT).</summary>
        public static NativeException FromWin32(string function, int win32Error, string? path) =>
            new NativeException(function, win32Error, isWin32: true, path);

        public string Function { get; }

        /// <summary>The error number as the OS gave it; see <see cref="IsWin32"/> for which space it is in.</summary>
        public int ErrorCode { get; }

        /// <summary>True when <see cref="ErrorCode"/> is a Win32 error code, false when it is an errno.</summary>
        public bool IsWin32 { get; }

        /// <summary>The errno of a failed libc call; null for a Win32 call.</summary>
        public int? Errno => IsWin32 ? null : ErrorCode;

        /// <summary>The Win32 error code of a failed Win32 call; null for a libc call.</summary>
        public int? Win32Error => IsWin32 ? ErrorCode : null;

        public string? Path { get; }
    }
}
