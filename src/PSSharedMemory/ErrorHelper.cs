using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using PSSharedMemory.Engine;

namespace PSSharedMemory
{
    /// <summary>Builds every error record the cmdlets report, so ErrorIds and categories stay stable.</summary>
    internal static class ErrorHelper
    {
        private static readonly bool s_showsRecommendation = typeof(PSObject).Assembly.GetName().Version.Major >= 7;

        /// <summary>
        /// The record for a failure. <paramref name="worksOn"/> is what the reporting cmdlet handles (values, or
        /// queues): the advice names the cmdlets for the segment it met instead.
        /// </summary>
        public static ErrorRecord FromException(Exception exception, object? target, SharedMemorySegmentKind worksOn = SharedMemorySegmentKind.Value) => exception switch
        {
            SharedMemoryException e => FromSharedMemory(e, target, worksOn),
            FileNotFoundException e => new ErrorRecord(e, "FileNotFound", ErrorCategory.ObjectNotFound, target),
            DirectoryNotFoundException e => new ErrorRecord(e, "DirectoryNotFound", ErrorCategory.ObjectNotFound, target),
            UnauthorizedAccessException e => new ErrorRecord(e, "PermissionDenied", ErrorCategory.PermissionDenied, target),
            IOException e => new ErrorRecord(e, "FileIOError", ErrorCategory.WriteError, target),
            _ => new ErrorRecord(exception, "SharedMemoryError", ErrorCategory.NotSpecified, target),
        };

        public static ErrorRecord FromSharedMemory(SharedMemoryException exception, object? target, SharedMemorySegmentKind worksOn = SharedMemorySegmentKind.Value)
        {
            (string id, ErrorCategory category) = exception.Code switch
            {
                SharedMemoryErrorCode.NotFound => ("SharedMemoryNotFound", ErrorCategory.ObjectNotFound),
                SharedMemoryErrorCode.AlreadyExists => ("SharedMemoryExists", ErrorCategory.ResourceExists),
                SharedMemoryErrorCode.InvalidName => ("InvalidSharedMemoryName", ErrorCategory.InvalidArgument),
                SharedMemoryErrorCode.InvalidSize => ("InvalidSize", ErrorCategory.InvalidArgument),
                SharedMemoryErrorCode.PayloadTooLarge => ("PayloadTooLarge", ErrorCategory.LimitsExceeded),
                SharedMemoryErrorCode.LockTimeout => ("LockTimeout", ErrorCategory.OperationTimeout),
                SharedMemoryErrorCode.WaitTimeout => ("WaitTimeout", ErrorCategory.OperationTimeout),
                SharedMemoryErrorCode.Corrupted => ("SharedMemoryCorrupted", ErrorCategory.InvalidData),
                SharedMemoryErrorCode.InterruptedWrite => ("InterruptedWrite", ErrorCategory.InvalidData),
                // The segment is gone, exactly as if it had never existed.
                SharedMemoryErrorCode.Removed => ("SharedMemoryRemoved", ErrorCategory.ObjectNotFound),
                SharedMemoryErrorCode.PermissionDenied => ("PermissionDenied", ErrorCategory.PermissionDenied),
                SharedMemoryErrorCode.OutOfSpace => ("OutOfSpace", ErrorCategory.ResourceUnavailable),
                SharedMemoryErrorCode.NotLocked => ("SharedMemoryNotLocked", ErrorCategory.InvalidOperation),
                SharedMemoryErrorCode.SymbolicLink => ("SharedMemorySymbolicLink", ErrorCategory.SecurityError),
                SharedMemoryErrorCode.WrongFileType => ("SharedMemoryWrongFileType", ErrorCategory.SecurityError),
                SharedMemoryErrorCode.WrongOwner => ("SharedMemoryWrongOwner", ErrorCategory.SecurityError),
                SharedMemoryErrorCode.UnsafePermissions => ("SharedMemoryUnsafePermissions", ErrorCategory.SecurityError),
                SharedMemoryErrorCode.ReadOnly => ("SharedMemoryReadOnly", ErrorCategory.PermissionDenied),
                // The segment moved on since the version the write was conditional on: the write is not
                // valid in its current state. Exception.CurrentVersion holds that version.
                SharedMemoryErrorCode.VersionMismatch => ("SharedMemoryVersionMismatch", ErrorCategory.InvalidOperation),
                SharedMemoryErrorCode.ContentTypeMismatch => ("SharedMemoryContentTypeMismatch", ErrorCategory.InvalidType),
                // A value cmdlet on a queue, or a queue cmdlet on a value: the operation does not apply to the
                // segment as it is.
                SharedMemoryErrorCode.WrongKind => ("SharedMemoryWrongKind", ErrorCategory.InvalidOperation),
                // The queue's bytes are taken up to its size: a limit, as for PayloadTooLarge.
                SharedMemoryErrorCode.QueueFull => ("SharedMemoryQueueFull", ErrorCategory.LimitsExceeded),
                // A server store: not reached, or stopped answering mid-command (the message says how long it waited).
                SharedMemoryErrorCode.StoreUnavailable => ("StoreUnavailable", ErrorCategory.ConnectionError),
                SharedMemoryErrorCode.AuthenticationFailed => ("AuthenticationFailed", ErrorCategory.AuthenticationError),
                // The lease of a lock held on a server store expired while held: the command under it was not made.
                SharedMemoryErrorCode.LockLost => ("LockLost", ErrorCategory.InvalidOperation),
                SharedMemoryErrorCode.StoreNotSupported => ("StoreNotSupported", ErrorCategory.NotImplemented),
                SharedMemoryErrorCode.InvalidStore => ("InvalidStore", ErrorCategory.InvalidArgument),
                _ => ("SharedMemoryNativeError", ErrorCategory.NotSpecified),
            };
            var record = new ErrorRecord(exception, id, category, target);
            string? advice = RecommendedAction(exception.Code, worksOn);
            if (advice is not null)
            {
                // The engine says what happened; this adds the next command to run. PowerShell 7 shows a
                // RecommendedAction under the message; Windows PowerShell shows only the message, so there
                // the advice is appended to it.
                string shown = s_showsRecommendation ? exception.Message : exception.Message + " " + advice;
                record.ErrorDetails = new ErrorDetails(shown) { RecommendedAction = advice };
            }

            return record;
        }

        /// <summary>
        /// What to do next, in cmdlets and parameters; null where the engine's message already says it.
        /// <paramref name="worksOn"/> is what the failing cmdlet handles: a queue cmdlet (Send-, Receive-SharedMemoryMessage)
        /// gets advice about queues, and WrongKind names the cmdlets of the other kind, the one the segment is.
        /// </summary>
        internal static string? RecommendedAction(SharedMemoryErrorCode code, SharedMemorySegmentKind worksOn = SharedMemorySegmentKind.Value) =>
            worksOn == SharedMemorySegmentKind.Queue ? QueueAdvice(code) : ValueAdvice(code);

        private static string? QueueAdvice(SharedMemoryErrorCode code) => code switch
        {
            SharedMemoryErrorCode.NotFound => "Create it with New-SharedMemory -Queue, or send to it with Send-SharedMemoryMessage, which creates a missing queue; Receive-SharedMemoryMessage -Wait waits for it to be created.",
            SharedMemoryErrorCode.ReadOnly => "Receiving takes messages out of the queue, which needs write permission: ask the queue's owner for it.",
            SharedMemoryErrorCode.Removed => "Create it again with New-SharedMemory -Queue, or open the new one if it was re-created.",
            SharedMemoryErrorCode.PayloadTooLarge => "Send smaller messages, or after Remove-SharedMemory create the queue again with New-SharedMemory -Queue and a larger -Size: a message takes at most the queue's size less 16 bytes.",
            SharedMemoryErrorCode.QueueFull => "Wait longer with a larger -Timeout, check that a session takes messages with Receive-SharedMemoryMessage, or create the queue again with a larger New-SharedMemory -Queue -Size.",
            SharedMemoryErrorCode.WaitTimeout => "Wait longer with a larger -Timeout, or check that the sender is running.",
            SharedMemoryErrorCode.WrongKind => "Read it with Read-SharedMemory and write it with Write-SharedMemory. For a queue, create one under another name with New-SharedMemory -Queue.",
            _ => ValueAdvice(code),
        };

        private static string? ValueAdvice(SharedMemoryErrorCode code) => code switch
        {
            SharedMemoryErrorCode.WrongKind => "Take its messages with Receive-SharedMemoryMessage (-Peek to look without taking them), and add messages with Send-SharedMemoryMessage.",
            SharedMemoryErrorCode.QueueFull => "Wait longer with a larger -Timeout, or check that a session takes messages with Receive-SharedMemoryMessage.",
            SharedMemoryErrorCode.NotFound => "Create it with New-SharedMemory, or list the existing ones with Get-SharedMemory.",
            SharedMemoryErrorCode.AlreadyExists => "Open it by name, or remove it first with Remove-SharedMemory.",
            SharedMemoryErrorCode.Removed => "Create it again with New-SharedMemory, or open the new one if it was re-created.",
            SharedMemoryErrorCode.PayloadTooLarge => "After Remove-SharedMemory, create it again with New-SharedMemory -Growable (it then grows as writes need), or with a larger -Size or -MaximumSize.",
            SharedMemoryErrorCode.Corrupted => "Remove it with Remove-SharedMemory and create it again.",
            SharedMemoryErrorCode.InterruptedWrite => "Write the segment again with Write-SharedMemory.",
            SharedMemoryErrorCode.LockTimeout => "Wait longer with a larger -Timeout, or release the lock in the session that holds it with Unlock-SharedMemory; Get-SharedMemory shows the holder's process as LockHolder.",
            SharedMemoryErrorCode.WaitTimeout => "Wait longer with a larger -Timeout, or check that the writer is running.",
            SharedMemoryErrorCode.NotLocked => "Take it first with Lock-SharedMemory, in this session.",
            SharedMemoryErrorCode.OutOfSpace => "Remove segments that are no longer needed (Get-SharedMemory lists them), or create a smaller one.",
            SharedMemoryErrorCode.ReadOnly => "Read it with Read-SharedMemory; to change it, ask its owner for write permission.",
            SharedMemoryErrorCode.VersionMismatch => "Take the segment's version again (the error's Exception.CurrentVersion, or Get-SharedMemory), read it, and write again with -IfVersion set to that version.",
            SharedMemoryErrorCode.ContentTypeMismatch => "Append strings to a Text segment and byte arrays to a Bytes segment; to store objects, or another type, write without -Append.",
            SharedMemoryErrorCode.StoreUnavailable => "Check that the Redis server named by -Store or PSSHAREDMEMORY_STORE is running and reachable from this machine, then run the command again.",
            SharedMemoryErrorCode.AuthenticationFailed => "Check the user name and password in the store's URI (redis://user:password@host:6379/0), or the secret it names.",
            SharedMemoryErrorCode.LockLost => "Take the lock again with Lock-SharedMemory and redo the work under it: another session may have changed the segment meanwhile. Compare the version you saw (a fencing token) before acting on what you read.",
            SharedMemoryErrorCode.StoreNotSupported => "Run the command in pwsh 7.4 or later, or use the local store (-Store Local).",
            _ => null,
        };

        public static ErrorRecord NotLocked(string name, object target) => FromSharedMemory(SharedMemoryException.NotLocked(name), target);

        public static ErrorRecord NotFound(string name, SharedMemoryScope scope, object target) => FromSharedMemory(SharedMemoryException.NotFound(name, scope), target);

        public static ErrorRecord CreationWaitTimeout(string name, TimeSpan timeout, object target) => FromSharedMemory(
            new SharedMemoryException(SharedMemoryErrorCode.WaitTimeout, name,
                $"Segment '{name}' was not created and written within {Deadline.Describe(timeout)}."),
            target);

        public static ErrorRecord QueueWaitTimeout(string name, TimeSpan timeout, bool created, object target) => FromSharedMemory(
            new SharedMemoryException(SharedMemoryErrorCode.WaitTimeout, name, created
                ? $"Queue '{name}' received no message within {Deadline.Describe(timeout)}."
                : $"Queue '{name}' was not created within {Deadline.Describe(timeout)}, so no message came."),
            target, SharedMemorySegmentKind.Queue);

        /// <summary>Read-SharedMemory -Wait on a queue: refused before the wait, as the read after it would be.</summary>
        public static ErrorRecord QueueNotReadable(string name, object target) => FromSharedMemory(
            new SharedMemoryException(SharedMemoryErrorCode.WrongKind, name,
                $"Segment '{name}' is a queue, so it cannot be read: send messages to it and receive them from it instead."),
            target);
        /// <summary>
        /// A wait on several segments (Wait-SharedMemory) that nothing ended in time: which were waited on,
        /// and which of them never came to exist.
        /// </summary>
        public static ErrorRecord WaitTimeout(IReadOnlyList<string> names, IReadOnlyList<string> missing, TimeSpan timeout, object target)
        {
            if (names.Count == 1)
            {
                return missing.Count == 1
                    ? CreationWaitTimeout(names[0], timeout, target)
                    : FromSharedMemory(new SharedMemoryException(SharedMemoryErrorCode.WaitTimeout, names[0], $"Segment '{names[0]}' did not change within {Deadline.Describe(timeout)}."), target);
            }

            string message = $"None of the segments {Quoted(names)} changed within {Deadline.Describe(timeout)}.";
            if (missing.Count > 0)
            {
                message += missing.Count == 1 ? $" '{missing[0]}' was not created and written." : $" {Quoted(missing)} were not created and written.";
            }

            return FromSharedMemory(new SharedMemoryException(SharedMemoryErrorCode.WaitTimeout, null, message), target);
        }

        /// <summary>'a', 'b' and 'c'; the first ten of a longer list, and how many more.</summary>
        private static string Quoted(IReadOnlyList<string> names)
        {
            const int Shown = 10;
            var shown = new List<string>();
            for (int i = 0; i < names.Count && i < Shown; i++)
            {
                shown.Add("'" + names[i] + "'");
            }

            if (names.Count > Shown)
            {
                return string.Join(", ", shown) + $" and {names.Count - Shown} more";
            }

            return shown.Count == 1 ? shown[0] : string.Join(", ", shown.GetRange(0, shown.Count - 1)) + " and " + shown[shown.Count - 1];
        }

        public static ErrorRecord SubscriberExists(string sourceIdentifier) => new ErrorRecord(
            new ArgumentException($"A subscriber with the source identifier '{sourceIdentifier}' already exists in this session. Choose another -SourceIdentifier, or remove that subscriber first with Unregister-Event -SourceIdentifier '{sourceIdentifier}'."),
            "SubscriberExists", ErrorCategory.ResourceExists, sourceIdentifier);

        public static ErrorRecord AppendObjects(string name, object target) => FromSharedMemory(
            new SharedMemoryException(SharedMemoryErrorCode.ContentTypeMismatch, name,
                $"Objects cannot be appended to segment '{name}': -Append adds a string to Text or a byte array to Bytes, and objects are stored as one CliXml document. Nothing was written."),
            target);

        public static string AbandonedLockWarning(string name, int processId, bool afterWrite) =>
            $"The lock of segment '{name}' was last held by process {processId}, which ended without releasing it; the operating system released it. "
            + (afterWrite
                ? "If that process was writing, this write replaced what it left half-written."
                : "If that process was writing, Read-SharedMemory reports InterruptedWrite until the next write.");

        public static ErrorRecord InvalidCliXml(string name, Exception inner, object target) => new ErrorRecord(
            new InvalidDataException(
                $"Segment '{name}' says it holds CliXml, but its payload could not be read as CliXml: {inner.Message} Read it with -AsText to see it, and write it again.", inner),
            "InvalidCliXml", ErrorCategory.InvalidData, target);

        public static ErrorRecord InvalidCliXmlMessage(string name, long version, Exception inner, object target) => new ErrorRecord(
            new InvalidDataException(
                $"Message {version} of queue '{name}' says it holds CliXml, but it could not be read as CliXml: {inner.Message} The message was taken from the queue; receive with -AsText to see such messages as they are.", inner),
            "InvalidCliXml", ErrorCategory.InvalidData, target);

        public static ErrorRecord QueueNotGrowable() => new ErrorRecord(
            new ArgumentException("A queue has a fixed size: -Size is the bytes its messages can take, and a send waits for room when they are taken. Leave out -Growable (and -MaximumSize) with -Queue."),
            "QueueNotGrowable", ErrorCategory.InvalidArgument, null);

        public static ErrorRecord InvalidPermission(string value) => new ErrorRecord(
            new ArgumentException($"'{value}' is not a permission. Give Unix permission bits as three octal digits, such as 600 or 660."),
            "InvalidPermission", ErrorCategory.InvalidArgument, value);

        public static ErrorRecord MaximumSizeNeedsGrowable() => new ErrorRecord(
            new ArgumentException("-MaximumSize limits how far a growable segment grows, and this segment has a fixed size. Add -Growable, or leave out -MaximumSize."),
            "MaximumSizeNeedsGrowable", ErrorCategory.InvalidArgument, null);

        public static ErrorRecord ConflictingOutput(string parameters) => new ErrorRecord(
            new ArgumentException($"The parameters {parameters} choose different kinds of output; use only one of them."),
            "ConflictingParameters", ErrorCategory.InvalidArgument, null);

        public static ErrorRecord ConflictingCount() => new ErrorRecord(
            new ArgumentException("-Count takes up to that many messages and -All takes every message; use only one of them."),
            "ConflictingParameters", ErrorCategory.InvalidArgument, null);

        public static ErrorRecord PathNotSingleFile(string path, int count) => new ErrorRecord(
            new ArgumentException(count == 0
                ? $"No file matches the path '{path}'. Check the path, or use -LiteralPath for a name with wildcard characters."
                : $"The path '{path}' matches {count} files, and a segment holds one. Give the path of one file."),
            count == 0 ? "PathNotFound" : "AmbiguousPath", count == 0 ? ErrorCategory.ObjectNotFound : ErrorCategory.InvalidArgument, path);

        public static ErrorRecord NotFileSystemPath(string path, string parameter, string provider) => new ErrorRecord(
            new ArgumentException($"The path '{path}' is in the {provider} provider, and -{parameter} takes a file system path only. Give the path of a file, such as ./file.bin or ~/file.bin."),
            "ReadWriteFileNotFileSystemProvider", ErrorCategory.InvalidArgument, path);

        public static ErrorRecord InvalidPath(string path, string parameter, Exception inner) => new ErrorRecord(
            new ArgumentException($"-{parameter} '{path}' is not a usable file system path: {inner.Message}", inner),
            "InvalidPath", inner is ItemNotFoundException || inner is System.Management.Automation.DriveNotFoundException ? ErrorCategory.ObjectNotFound : ErrorCategory.InvalidArgument, path);

        public static ErrorRecord NameRequired() => new ErrorRecord(
            new ArgumentException("Write-SharedMemory needs a segment: give -Name, or pipe segment objects from Get-SharedMemory with -Value, -InFile or -LiteralPath. Piped values are what to write, never where."),
            "NameRequired", ErrorCategory.InvalidArgument, null);

        public static ErrorRecord MessageNameRequired() => new ErrorRecord(
            new ArgumentException("Send-SharedMemoryMessage needs a queue: give -Name or -InputObject, or pipe segment objects from Get-SharedMemory with -Value. Piped values are the messages to send, never where."),
            "NameRequired", ErrorCategory.InvalidArgument, null);

        public static ErrorRecord ConflictingSegment() => new ErrorRecord(
            new ArgumentException("A segment object was piped and -Name was given; give only one of them. To store a segment object as a value, pass it with -Value."),
            "ConflictingParameters", ErrorCategory.InvalidArgument, null);

        public static ErrorRecord ValueRequired() => new ErrorRecord(
            new ArgumentException("Nothing to write: give -Value, -InFile or -LiteralPath, or pipe the value to Write-SharedMemory with -Name."),
            "ValueRequired", ErrorCategory.InvalidArgument, null);
    }
}
