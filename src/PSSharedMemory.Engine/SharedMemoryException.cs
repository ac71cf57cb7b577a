using System;
using System.Globalization;

namespace PSSharedMemory.Engine
{
    /// <summary>The one exception the engine throws for anything a caller can act on.</summary>
    [Serializable]
    public sealed class SharedMemoryException : Exception
    {
        /// <summary>Creates an exception with a code and a message that says what to do.</summary>
        public SharedMemoryException(SharedMemoryErrorCode code, string? segmentName, string message)
            : this(code, segmentName, message, null, 0, null)
        {
        }

        /// <summary>Creates an exception for a failed native call.</summary>
        public SharedMemoryException(
            SharedMemoryErrorCode code,
            string? segmentName,
            string message,
            string? nativeFunction,
            int nativeErrorCode,
            Exception? innerException)
            : base(message, innerException)
        {
            Code = code;
            SegmentName = segmentName;
            NativeFunction = nativeFunction;
            NativeErrorCode = nativeErrorCode;
        }

        private SharedMemoryException(System.Runtime.Serialization.SerializationInfo info, System.Runtime.Serialization.StreamingContext context)
            : base(info, context)
        {
            Code = (SharedMemoryErrorCode)info.GetInt32(nameof(Code));
            SegmentName = info.GetString(nameof(SegmentName));
            NativeFunction = info.GetString(nameof(NativeFunction));
            NativeErrorCode = info.GetInt32(nameof(NativeErrorCode));
        }

        /// <summary>What went wrong.</summary>
        public SharedMemoryErrorCode Code { get; }

        /// <summary>The segment the operation was about, when there is one.</summary>
        public string? SegmentName { get; }

        /// <summary>The native function that failed, for example <c>posix_fallocate</c>.</summary>
        public string? NativeFunction { get; }

        /// <summary>errno on Unix, the Win32 error code on Windows; 0 when no native call failed.</summary>
        public int NativeErrorCode { get; }

        /// <inheritdoc />
        public override void GetObjectData(System.Runtime.Serialization.SerializationInfo info, System.Runtime.Serialization.StreamingContext context)
        {
            base.GetObjectData(info, context);
            info.AddValue(nameof(Code), (int)Code);
            info.AddValue(nameof(SegmentName), SegmentName);
            info.AddValue(nameof(NativeFunction), NativeFunction);
            info.AddValue(nameof(NativeErrorCode), NativeErrorCode);
        }

        /// <summary>The error for a name that has no segment in the scope.</summary>
        public static SharedMemoryException NotFound(string name, SharedMemoryScope scope) => SegmentErrors.NotFound(name, scope);

        /// <summary>The error for an unlock of a lock this handle (or caller) does not hold.</summary>
        public static SharedMemoryException NotLocked(string name) => SegmentErrors.NotLocked(name);

        internal static string Bytes(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
    }
}
