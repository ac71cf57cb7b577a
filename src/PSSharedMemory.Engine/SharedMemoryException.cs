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
            CurrentVersion = (long?)info.GetValue(nameof(CurrentVersion), typeof(long?));
            LockHolderProcessId = info.GetInt32(nameof(LockHolderProcessId));
            RequiredLength = (long?)info.GetValue(nameof(RequiredLength), typeof(long?));
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
            info.AddValue(nameof(CurrentVersion), CurrentVersion, typeof(long?));
            info.AddValue(nameof(LockHolderProcessId), LockHolderProcessId);
            info.AddValue(nameof(RequiredLength), RequiredLength, typeof(long?));
        }

        /// <summary>For <see cref="SharedMemoryErrorCode.VersionMismatch"/>: the segment's version when the write was refused.</summary>
        public long? CurrentVersion { get; internal set; }

        /// <summary>For a lock timeout: the process that held the lock, when it was known; otherwise 0.</summary>
        public int LockHolderProcessId { get; internal set; }

        /// <summary>
        /// For <see cref="SharedMemoryErrorCode.BufferTooSmall"/>: the length of the payload that did not fit, the
        /// room a buffer needs from its offset (the payload may have changed again by the next read).
        /// </summary>
        public long? RequiredLength { get; internal set; }

        /// <summary>The error for a name that has no segment in the scope.</summary>
        public static SharedMemoryException NotFound(string name, SharedMemoryScope scope) => SegmentErrors.NotFound(name, scope);

        /// <summary>The error for an unlock of a lock this handle (or caller) does not hold.</summary>
        public static SharedMemoryException NotLocked(string name) => SegmentErrors.NotLocked(name);

        internal static string Bytes(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
    }
}
