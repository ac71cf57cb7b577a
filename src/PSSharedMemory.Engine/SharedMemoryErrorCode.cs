namespace PSSharedMemory.Engine
{
    /// <summary>Why a <see cref="SharedMemoryException"/> was thrown.</summary>
    public enum SharedMemoryErrorCode
    {
        /// <summary>An operating system call failed in a way no other code describes.</summary>
        NativeError = 0,

        /// <summary>No segment of that name exists.</summary>
        NotFound,

        /// <summary>A segment of that name already exists.</summary>
        AlreadyExists,

        /// <summary>The name breaks the naming rule.</summary>
        InvalidName,

        /// <summary>The requested size is zero, negative or too large.</summary>
        InvalidSize,

        /// <summary>The payload is larger than the segment's size.</summary>
        PayloadTooLarge,

        /// <summary>The lock was not acquired within the timeout.</summary>
        LockTimeout,

        /// <summary>No change happened within the timeout.</summary>
        WaitTimeout,

        /// <summary>The segment's header or size is not valid.</summary>
        Corrupted,

        /// <summary>The segment was removed while this handle had it open.</summary>
        Removed,

        /// <summary>The operating system refused access.</summary>
        PermissionDenied,

        /// <summary>The store has no room for a segment of that size.</summary>
        OutOfSpace,

        /// <summary>A writer stopped in the middle of a write; the payload is not valid.</summary>
        InterruptedWrite,

        /// <summary>The lock is not held by this handle.</summary>
        NotLocked,

        /// <summary>The store directory or the segment file is a symbolic link, which is never followed.</summary>
        SymbolicLink,

        /// <summary>The segment's name is taken by something that is not a regular file, or the store is not a directory.</summary>
        WrongFileType,

        /// <summary>The store directory or the segment file belongs to a user who should not own it.</summary>
        WrongOwner,

        /// <summary>The store directory's mode would let other users replace or read segments.</summary>
        UnsafePermissions,

        /// <summary>This user may read the segment but not write, lock or remove it.</summary>
        ReadOnly,

        /// <summary>
        /// A conditional write found another version than the one expected; nothing was written.
        /// <see cref="SharedMemoryException.CurrentVersion"/> holds the version found.
        /// </summary>
        VersionMismatch,

        /// <summary>An append's content type differs from the stored payload's, or the payload cannot be appended to.</summary>
        ContentTypeMismatch,

        /// <summary>A value operation (write, read) on a queue, or a queue operation (send, receive) on a value segment.</summary>
        WrongKind,

        /// <summary>A queue had no room for the message within the timeout; nothing was sent.</summary>
        QueueFull,

        /// <summary>The store (a server) could not be reached, or stopped answering in the middle of an operation.</summary>
        StoreUnavailable,

        /// <summary>The store (a server) refused the credentials given.</summary>
        AuthenticationFailed,

        /// <summary>
        /// The lock this handle held was lost while held (its lease expired, for example while the holder was
        /// paused or cut off), so another handle may have taken it; the operation under it was not made.
        /// </summary>
        LockLost,

        /// <summary>The store is not available in this host (for example a server store in Windows PowerShell 5.1).</summary>
        StoreNotSupported,

        /// <summary>The store's address or settings are not valid.</summary>
        InvalidStore,

        /// <summary>
        /// The payload is longer than the room in the caller's buffer; nothing was copied.
        /// <see cref="SharedMemoryException.RequiredLength"/> holds the payload's length.
        /// </summary>
        BufferTooSmall,
    }
}
