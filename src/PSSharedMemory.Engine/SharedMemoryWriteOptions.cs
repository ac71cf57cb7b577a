using System;
using System.Threading;

namespace PSSharedMemory.Engine
{
    /// <summary>How a write is made: how long it waits for the lock, whether it is conditional, and whether it appends.</summary>
    public sealed class SharedMemoryWriteOptions
    {
        /// <summary>How long to wait for the segment's lock.</summary>
        public TimeSpan LockTimeout { get; set; } = SharedMemorySegment.DefaultLockTimeout;

        /// <summary>Ends a wait for the lock with <see cref="OperationCanceledException"/>.</summary>
        public CancellationToken CancellationToken { get; set; }

        /// <summary>
        /// Write only when the segment's version is still this one (compare and swap, checked under the
        /// lock); otherwise fail with <see cref="SharedMemoryErrorCode.VersionMismatch"/> and change nothing.
        /// Null writes whatever the version.
        /// </summary>
        public long? IfVersion { get; set; }

        /// <summary>
        /// Add the payload after the stored one, in the same write: text to Text, bytes to Bytes (an Empty
        /// segment takes either). Other combinations fail with <see cref="SharedMemoryErrorCode.ContentTypeMismatch"/>.
        /// </summary>
        public bool Append { get; set; }
    }
}
