using System;
using System.IO;
using System.Management.Automation;
using PSSharedMemory.Engine;

namespace PSSharedMemory
{
    /// <summary>Builds every error record the cmdlets report, so ErrorIds and categories stay stable.</summary>
    internal static class ErrorHelper
    {
        public static ErrorRecord FromException(Exception exception, object? target) => exception switch
        {
            SharedMemoryException e => FromSharedMemory(e, target),
            FileNotFoundException e => new ErrorRecord(e, "FileNotFound", ErrorCategory.ObjectNotFound, target),
            DirectoryNotFoundException e => new ErrorRecord(e, "DirectoryNotFound", ErrorCategory.ObjectNotFound, target),
            UnauthorizedAccessException e => new ErrorRecord(e, "PermissionDenied", ErrorCategory.PermissionDenied, target),
            IOException e => new ErrorRecord(e, "FileIOError", ErrorCategory.WriteError, target),
            _ => new ErrorRecord(exception, "SharedMemoryError", ErrorCategory.NotSpecified, target),
        };

        public static ErrorRecord FromSharedMemory(SharedMemoryException exception, object? target)
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
                _ => ("SharedMemoryNativeError", ErrorCategory.NotSpecified),
            };
            return new ErrorRecord(exception, id, category, target);
        }

        public static ErrorRecord NotLocked(string name, object target) => FromSharedMemory(
            new SharedMemoryException(SharedMemoryErrorCode.NotLocked, name,
                $"The lock of segment '{name}' is not held by this session, so there is nothing to unlock. Take it first with Lock-SharedMemory, in this session."),
            target);

        public static ErrorRecord CreationWaitTimeout(string name, TimeSpan timeout, object target) => FromSharedMemory(
            new SharedMemoryException(SharedMemoryErrorCode.WaitTimeout, name,
                $"Segment '{name}' was not created and written within {Seconds(timeout)}. Wait longer with a larger -Timeout, or check that the writer is running."),
            target);

        public static ErrorRecord InvalidCliXml(string name, Exception inner, object target) => new ErrorRecord(
            new InvalidDataException(
                $"Segment '{name}' says it holds CliXml, but its payload could not be read as CliXml: {inner.Message} Read it with -AsText to see it, and write it again.", inner),
            "InvalidCliXml", ErrorCategory.InvalidData, target);

        public static ErrorRecord InvalidPermission(string value) => new ErrorRecord(
            new ArgumentException($"'{value}' is not a permission. Give Unix permission bits as three octal digits, such as 600 or 660."),
            "InvalidPermission", ErrorCategory.InvalidArgument, value);

        public static ErrorRecord ConflictingOutput(string parameters) => new ErrorRecord(
            new ArgumentException($"The parameters {parameters} choose different kinds of output; use only one of them."),
            "ConflictingParameters", ErrorCategory.InvalidArgument, null);

        public static ErrorRecord PathNotSingleFile(string path, int count) => new ErrorRecord(
            new ArgumentException(count == 0
                ? $"No file matches the path '{path}'. Check the path, or use -LiteralPath for a name with wildcard characters."
                : $"The path '{path}' matches {count} files, and a segment holds one. Give the path of one file."),
            count == 0 ? "PathNotFound" : "AmbiguousPath", count == 0 ? ErrorCategory.ObjectNotFound : ErrorCategory.InvalidArgument, path);

        public static ErrorRecord ValueRequired() => new ErrorRecord(
            new ArgumentException("Nothing to write: give -Value, -Path or -LiteralPath, or pipe the value to Write-SharedMemory."),
            "ValueRequired", ErrorCategory.InvalidArgument, null);

        private static string Seconds(TimeSpan timeout) =>
            timeout == System.Threading.Timeout.InfiniteTimeSpan ? "an unlimited time" : timeout.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + " seconds";
    }
}
