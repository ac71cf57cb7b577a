using System;

namespace PSSharedMemory.Engine.Native
{
    /// <summary>A failed native call: the function, errno (or Win32 error) and the path it was about.</summary>
    internal sealed class NativeException : Exception
    {
        public NativeException(string function, int errorCode, string? path)
            : base($"{function} failed with error {errorCode}{(path is null ? string.Empty : $" for '{path}'")}.")
        {
            Function = function;
            ErrorCode = errorCode;
            Path = path;
        }

        public string Function { get; }

        public int ErrorCode { get; }

        public string? Path { get; }
    }
}
