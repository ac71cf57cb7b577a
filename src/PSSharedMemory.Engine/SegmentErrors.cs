using System;
using System.Collections.Generic;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// Every <see cref="SharedMemoryException"/> the segment code raises, worded once. The messages speak of
    /// segments, names, sizes and timeouts only; a host (such as the PowerShell cmdlets) adds its own advice.
    /// </summary>
    internal static class SegmentErrors
    {
        public static SharedMemoryException NotFound(string name, SharedMemoryScope scope) =>
            new SharedMemoryException(SharedMemoryErrorCode.NotFound, name,
                $"No shared memory segment named '{name}' exists{(scope == SharedMemoryScope.Global ? " in the global scope" : string.Empty)}.");

        public static SharedMemoryException Removed(string name) =>
            new SharedMemoryException(SharedMemoryErrorCode.Removed, name,
                $"Segment '{name}' was removed by another process or session; this handle no longer refers to a segment.");

        public static SharedMemoryException NotLocked(string name) =>
            new SharedMemoryException(SharedMemoryErrorCode.NotLocked, name,
                $"The lock of segment '{name}' is not held by this handle, so there is nothing to unlock.");

        public static SharedMemoryException LockTimeout(string name, TimeSpan timeout, int holder) =>
            new SharedMemoryException(SharedMemoryErrorCode.LockTimeout, name,
                $"The lock of segment '{name}' is held by {(holder > 0 ? "process " + holder.ToString(System.Globalization.CultureInfo.InvariantCulture) : "another handle")} and was not released within {Deadline.Describe(timeout)}.")
            {
                LockHolderProcessId = holder,
            };

        public static SharedMemoryException VersionMismatch(string name, long expected, long current) =>
            new SharedMemoryException(SharedMemoryErrorCode.VersionMismatch, name,
                $"Segment '{name}' is at version {current}, not {expected}, so the conditional write was not made; the segment is unchanged.")
            {
                CurrentVersion = current,
            };

        public static SharedMemoryException ContentTypeMismatch(string name, SharedMemoryContentType stored, SharedMemoryContentType appended) =>
            new SharedMemoryException(SharedMemoryErrorCode.ContentTypeMismatch, name,
                stored == SharedMemoryContentType.CliXml || appended == SharedMemoryContentType.CliXml
                    ? $"Segment '{name}' holds {stored}; only Text can be appended to Text and Bytes to Bytes, so nothing was appended."
                    : $"Segment '{name}' holds {stored}, and {appended} cannot be appended to it; nothing was appended.");

        public static SharedMemoryException WrongKind(string name, SharedMemorySegmentKind kind, string action) =>
            new SharedMemoryException(SharedMemoryErrorCode.WrongKind, name,
                kind == SharedMemorySegmentKind.Queue
                    ? $"Segment '{name}' is a queue, so it cannot be {action}: send messages to it and receive them from it instead."
                    : $"Segment '{name}' holds one value, not a queue of messages, so it cannot be {action}: write it and read it instead.");

        public static SharedMemoryException BufferTooSmall(string name, long length, int room, int offset) =>
            new SharedMemoryException(SharedMemoryErrorCode.BufferTooSmall, name,
                length > int.MaxValue
                    ? $"The payload of segment '{name}' is {SharedMemoryException.Bytes(length)} bytes, more than any array can hold; nothing was copied."
                    : $"The payload of segment '{name}' is {SharedMemoryException.Bytes(length)} bytes, but the buffer has room for {SharedMemoryException.Bytes(room)} bytes from offset {SharedMemoryException.Bytes(offset)}; nothing was copied. Pass a buffer with room for at least {SharedMemoryException.Bytes(length)} bytes from the offset.")
            {
                RequiredLength = length,
            };

        public static SharedMemoryException QueueFull(string name, long needed, long free, TimeSpan timeout) =>
            new SharedMemoryException(SharedMemoryErrorCode.QueueFull, name,
                $"Queue '{name}' had no room for a message of {SharedMemoryException.Bytes(needed)} bytes within {Deadline.Describe(timeout)} ({SharedMemoryException.Bytes(free)} bytes free); nothing was sent. Receivers free room as they take messages.");

        public static SharedMemoryException QueueEmpty(string name, TimeSpan timeout) =>
            new SharedMemoryException(SharedMemoryErrorCode.WaitTimeout, name,
                $"Queue '{name}' received no message within {Deadline.Describe(timeout)}.");

        public static SharedMemoryException WaitTimeout(string name, TimeSpan timeout) =>
            new SharedMemoryException(SharedMemoryErrorCode.WaitTimeout, name,
                $"Segment '{name}' did not change within {Deadline.Describe(timeout)}.");

        public static SharedMemoryException CreationWaitTimeout(string name, SharedMemoryScope scope, TimeSpan timeout) =>
            new SharedMemoryException(SharedMemoryErrorCode.WaitTimeout, name,
                $"No shared memory segment named '{name}' was created{(scope == SharedMemoryScope.Global ? " in the global scope" : string.Empty)} within {Deadline.Describe(timeout)}.");
        /// <summary>No segment of a multi-segment wait changed in time; names one segment, or several.</summary>
        public static SharedMemoryException WaitTimeout(IReadOnlyList<SharedMemorySegment> segments, TimeSpan timeout)
        {
            var names = new List<string>();
            foreach (SharedMemorySegment segment in segments)
            {
                if (!names.Contains(segment.Name))
                {
                    names.Add(segment.Name);
                }
            }

            if (names.Count == 1)
            {
                return WaitTimeout(names[0], timeout);
            }

            const int Shown = 10;
            string listed = "'" + string.Join("', '", names.GetRange(0, Math.Min(Shown, names.Count))) + "'" + (names.Count > Shown ? $" and {names.Count - Shown} more" : string.Empty);
            return new SharedMemoryException(SharedMemoryErrorCode.WaitTimeout, null,
                $"None of the segments {listed} changed within {Deadline.Describe(timeout)}.");
        }

        public static SharedMemoryException BusyWriters(string name, TimeSpan timeout) =>
            new SharedMemoryException(SharedMemoryErrorCode.LockTimeout, name,
                $"Segment '{name}' was being written for longer than {Deadline.Describe(timeout)}, so no consistent copy could be read.");

        public static SharedMemoryException InterruptedWrite(string name) =>
            new SharedMemoryException(SharedMemoryErrorCode.InterruptedWrite, name,
                $"The last write to segment '{name}' was interrupted (its writer stopped mid-write), so the payload is not valid. The next complete write clears this.");

        public static SharedMemoryException Corrupted(string name, string why) =>
            new SharedMemoryException(SharedMemoryErrorCode.Corrupted, name,
                $"Segment '{name}' is corrupted: {why}. Remove it and create it again.");

        public static SharedMemoryException PayloadTooLarge(string name, long length, long size) =>
            new SharedMemoryException(SharedMemoryErrorCode.PayloadTooLarge, name,
                $"A payload of {SharedMemoryException.Bytes(length)} bytes does not fit segment '{name}' of size {SharedMemoryException.Bytes(size)} bytes.");

        public static SharedMemoryException InvalidSize(string name, long size, long largest) =>
            new SharedMemoryException(SharedMemoryErrorCode.InvalidSize, name,
                $"A size of {SharedMemoryException.Bytes(size)} bytes is not valid for segment '{name}'. Use a size from 1 byte to {SharedMemoryException.Bytes(largest)} bytes.");

        public static SharedMemoryException InvalidMaximumSize(string name, long size, long maxSize, long largest) =>
            new SharedMemoryException(SharedMemoryErrorCode.InvalidSize, name,
                $"A largest size of {SharedMemoryException.Bytes(maxSize)} bytes is not valid for growable segment '{name}' of size {SharedMemoryException.Bytes(size)} bytes. Use a largest size from the size to {SharedMemoryException.Bytes(largest)} bytes.");

        public static SharedMemoryException ReadOnly(string name, string action) =>
            new SharedMemoryException(SharedMemoryErrorCode.ReadOnly, name,
                $"Segment '{name}' is read-only for you: its permissions let you read it but not write to it, so it cannot be {action} by you. Its owner can grant write permission.");

        /// <summary>Turns a failed native call of a store into the error a caller can act on.</summary>
        public static SharedMemoryException Translate(NativeException e, string name, SegmentStore store, long size)
        {
            SharedMemoryErrorCode code = store.Classify(e);
            string call = $"{e.Function}, error {e.ErrorCode}";
            return code switch
            {
                SharedMemoryErrorCode.NotFound => NotFound(name, store.Scope),
                SharedMemoryErrorCode.AlreadyExists => new SharedMemoryException(code, name,
                    $"A shared memory segment named '{name}' already exists.", e.Function, e.ErrorCode, e),
                SharedMemoryErrorCode.SymbolicLink => new SharedMemoryException(code, name,
                    $"Segment '{name}' or its store is a symbolic link, which is never followed ({call}). Remove the link.", e.Function, e.ErrorCode, e),
                SharedMemoryErrorCode.PermissionDenied when store.IsRemoval(e) => new SharedMemoryException(code, name,
                    $"You may not remove segment '{name}' ({call}): it belongs to another user. It was left as it was; its owner can remove it.", e.Function, e.ErrorCode, e),
                SharedMemoryErrorCode.PermissionDenied => new SharedMemoryException(code, name,
                    $"Access to segment '{name}' was denied ({call}). Segments of other users cannot be opened; to share between users, create the segment in the global scope with suitable permissions.", e.Function, e.ErrorCode, e),
                SharedMemoryErrorCode.OutOfSpace => new SharedMemoryException(code, name,
                    $"There is no room for segment '{name}' of {SharedMemoryException.Bytes(size)} bytes in '{store.Directory}' ({call}). Remove segments that are no longer needed, or use a smaller size.", e.Function, e.ErrorCode, e),
                _ => new SharedMemoryException(SharedMemoryErrorCode.NativeError, name, $"Segment '{name}': {e.Message}", e.Function, e.ErrorCode, e),
            };
        }
    }
}
