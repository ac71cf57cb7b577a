using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Management.Automation;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Commands
{
    /// <summary>
    /// Write-SharedMemory: replaces a segment's payload (or, with -Append, adds to it), creating the segment
    /// when none exists. Values piped with -Name are gathered and written once, at the end; segment objects
    /// piped with -Value, -InFile or -LiteralPath are each written. A piped value never names the segment.
    /// -IfVersion makes the write conditional on the segment's version.
    /// </summary>
    /// <remarks>
    /// -Name and -InputObject are in different parameter sets for -Value, so that a value piped with -Name binds
    /// to -Value alone: PowerShell would otherwise try (and fail) to convert every piped value to a segment
    /// object, which costs more than the rest of the write.
    /// </remarks>
    [Cmdlet(VerbsCommunications.Write, "SharedMemory", DefaultParameterSetName = ValueSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpLinks.Write)]
    [OutputType(typeof(SharedMemoryInfo))]
    public sealed class WriteSharedMemoryCommand : ScopedCommandBase
    {
        private const string ValueSet = "Value";
        private const string InputObjectSet = "InputObject";
        private const string InFileSet = "InFile";
        private const string LiteralPathSet = "LiteralPath";

        private bool _gather;
        private bool _nameGiven;
        private string _gatherName = string.Empty;
        private SharedMemoryScope _gatherScope;
        private object? _first;
        private List<object?>? _more;
        private int _count;
        private byte[]? _fileBytes;
        private SharedMemoryWriteOptions? _options;

        /// <summary>The segment's name; or pipe segment objects instead.</summary>
        [Parameter(Position = 0, ParameterSetName = ValueSet)]
        [Parameter(Position = 0, ParameterSetName = InFileSet)]
        [Parameter(Position = 0, ParameterSetName = LiteralPathSet)]
        [ArgumentCompleter(typeof(SegmentNameCompleter))]
        [AllowEmptyString]
        public string Name { get; set; } = string.Empty;

        /// <summary>A segment object (from Get-, New- or Write-SharedMemory, or its deserialized copy) to write to.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
        [Parameter(ValueFromPipeline = true, ParameterSetName = InFileSet)]
        [Parameter(ValueFromPipeline = true, ParameterSetName = LiteralPathSet)]
        public SharedMemoryInfo? InputObject { get; set; }

        /// <summary>What to store: a string (Text), a byte[] (Bytes) or any object (CliXml).</summary>
        [Parameter(
            Mandatory = true,
            Position = 1,
            ValueFromPipeline = true,
            ParameterSetName = ValueSet)]
        [Parameter(
            Mandatory = true,
            Position = 1,
            ValueFromPipeline = true,
            ParameterSetName = InputObjectSet)]
        [AllowNull]
        [AllowEmptyString]
        [AllowEmptyCollection]
        public object? Value { get; set; }

        /// <summary>A file whose bytes to store; wildcards must match exactly one file.</summary>
        [Parameter(
            Mandatory = true,
            ParameterSetName = InFileSet)]
        [Alias("Path")]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        public string InFile { get; set; } = string.Empty;

        /// <summary>A file whose bytes to store, taken literally.</summary>
        [Parameter(
            Mandatory = true,
            ParameterSetName = LiteralPathSet)]
        [Alias("PSPath", "LP")]
        [ValidateNotNullOrEmpty]
        public string LiteralPath { get; set; } = string.Empty;

        /// <summary>How many levels of contained objects CliXml keeps, as for Export-Clixml.</summary>
        [Parameter(ParameterSetName = ValueSet)]
        [Parameter(ParameterSetName = InputObjectSet)]
        [ValidateRange(1, int.MaxValue)]
        public int Depth { get; set; } = 2;

        /// <summary>How long to wait for the lock when another session holds it (default 30 s).</summary>
        [Parameter]
        [TimeoutTransformation]
        public TimeSpan Timeout { get; set; } = SharedMemorySegment.DefaultLockTimeout;

        /// <summary>Return the segment object after the write.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>
        /// Write only when the segment's version is still this one (compare and swap); otherwise report
        /// SharedMemoryVersionMismatch and change nothing. 0 also creates a missing segment.
        /// </summary>
        [Parameter]
        [ValidateRange(0, long.MaxValue)]
        public long IfVersion { get; set; }

        /// <summary>Add the text or bytes after the stored payload, in one write under the lock, instead of replacing it.</summary>
        [Parameter]
        public SwitchParameter Append { get; set; }

        private bool IsValueSet => ParameterSetName == ValueSet || ParameterSetName == InputObjectSet;

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            _nameGiven = MyInvocation.BoundParameters.ContainsKey(nameof(Name));

            // Piped values go to one segment named here, gathered into one payload. Without a name they would
            // have nowhere to go (and segment objects piped without -Value have nothing to write).
            _gather = IsValueSet && !MyInvocation.BoundParameters.ContainsKey(nameof(Value));
            if (_gather && !_nameGiven)
            {
                ThrowTerminatingError(ErrorHelper.NameRequired());
            }

            _gatherName = Name;
            _gatherScope = Scope;

            // The plain write keeps its allocation-free overloads; the options exist only when asked for.
            bool conditional = MyInvocation.BoundParameters.ContainsKey(nameof(IfVersion));
            if (conditional || Append)
            {
                _options = new SharedMemoryWriteOptions
                {
                    LockTimeout = Timeout,
                    CancellationToken = StopToken,
                    IfVersion = conditional ? IfVersion : null,
                    Append = Append,
                };
            }

            if (!IsValueSet)
            {
                string? file = ResolveFile();
                if (file is null)
                {
                    return;
                }

                try
                {
                    _fileBytes = System.IO.File.ReadAllBytes(file);
                }
                catch (Exception e) when (IsReportable(e))
                {
                    ThrowTerminatingError(ErrorHelper.FromException(e, file));
                }
            }
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            if (_gather)
            {
                if (_count++ == 0)
                {
                    _first = Value;
                }
                else
                {
                    (_more ??= new List<object?>()).Add(Value);
                }

                return;
            }

            if (InputObject is not null && _nameGiven)
            {
                ThrowTerminatingError(ErrorHelper.ConflictingSegment());
            }

            if (InputObject is null && !_nameGiven)
            {
                ThrowTerminatingError(ErrorHelper.NameRequired());
            }

            string name = InputObject?.Name ?? Name;
            SharedMemoryScope scope = InputObject?.Scope ?? Scope;
            if (IsValueSet)
            {
                WriteValue(name, scope, Value);
            }
            else if (_fileBytes is not null)
            {
                WritePayload(name, scope, null, _fileBytes, _fileBytes.Length, SharedMemoryContentType.Bytes);
            }
        }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            if (!_gather || _count == 0)
            {
                return;
            }

            if (_count == 1)
            {
                WriteValue(_gatherName, _gatherScope, _first);
                return;
            }

            var items = new object?[_count];
            items[0] = _first;
            _more!.CopyTo(items, 1);
            Payload.FromItems(items, Depth, utf8CliXml: true, out string? text, out byte[]? bytes, out int count, out SharedMemoryContentType contentType);
            WritePayload(_gatherName, _gatherScope, text, bytes, count, contentType);
        }

        private void WriteValue(string name, SharedMemoryScope scope, object? value)
        {
            // CliXml comes as UTF-8 bytes: a large payload's string would cost a copy on the large object heap.
            Payload.FromValue(value, Depth, utf8CliXml: true, out string? text, out byte[]? bytes, out int count, out SharedMemoryContentType contentType);
            WritePayload(name, scope, text, bytes, count, contentType);
        }

        /// <summary>Writes the payload; a CliXml array from the module's writer is given back to it afterwards.</summary>
        private void WritePayload(string name, SharedMemoryScope scope, string? text, byte[]? bytes, int count, SharedMemoryContentType contentType)
        {
            try
            {
                WriteToStore(name, scope, text, bytes, count, contentType);
            }
            finally
            {
                Payload.ReturnCliXml(bytes, contentType);
            }
        }

        private void WriteToStore(string name, SharedMemoryScope scope, string? text, byte[]? bytes, int count, SharedMemoryContentType contentType)
        {
            if (Append && contentType == SharedMemoryContentType.CliXml)
            {
                // Refused before anything is opened or created: a CliXml payload is one document.
                WriteError(ErrorHelper.AppendObjects(name, name));
                return;
            }

            try
            {
                // The handle found here is the one written through, so the cache is checked once per write.
                ISharedMemoryStore store = StoreFor(InputObject);
                bool cached = SegmentCache.TryGetUsable(store, name, scope, out ISharedMemorySegment? segment);
                bool exists = cached || store.Exists(name, scope);
                if (!ShouldProcess(name + (scope == SharedMemoryScope.Global ? " (Global)" : " (User)"), Action(exists, contentType)))
                {
                    return;
                }

                for (int attempt = 0; ; attempt++)
                {
                    if (segment is null)
                    {
                        segment = OpenForWrite(store, name, scope, text, count);
                    }

                    try
                    {
                        long version = Write(segment, text, bytes, count, contentType);
                        SeenVersions.Record(segment, version);

                        if (PassThru)
                        {
                            WriteObject(new SharedMemoryInfo(segment.GetInfo()));
                        }

                        return;
                    }
                    catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.Removed && attempt == 0)
                    {
                        // Removed since we opened it: write to the current segment, or a new one, once.
                        SegmentCache.Evict(segment!);
                        segment = null;
                    }
                }
            }
            catch (Exception e) when (IsReportable(e))
            {
                WriteFailure(e, name);
            }
        }

        private ISharedMemorySegment OpenForWrite(ISharedMemoryStore store, string name, SharedMemoryScope scope, string? text, int count)
        {
            // A missing segment is at version 0, so a write conditional on another version has nothing to
            // write to: it fails with NotFound instead of leaving an empty segment behind.
            if (_options?.IfVersion is long expected && expected != 0)
            {
                return SegmentCache.Open(store, name, scope);
            }

            long length = text is null ? count : Payload.Utf8.GetByteCount(text);
            ISharedMemorySegment segment = SegmentCache.OpenOrCreate(store, name, scope, Payload.AutoSize(length), out bool created);
            if (created)
            {
                WriteVerbose($"Created segment '{name}' ({scope}) of {segment.Size} bytes.");
            }

            return segment;
        }

        private long Write(ISharedMemorySegment segment, string? text, byte[]? bytes, int count, SharedMemoryContentType contentType)
        {
            long version;
            try
            {
                version = _options is null
                    ? text is null
                        ? segment.Write(bytes!, 0, count, contentType, Timeout, StopToken)
                        : segment.WriteText(text, contentType, Timeout, StopToken)
                    : text is null
                        ? segment.Write(bytes!, 0, count, contentType, _options)
                        : segment.WriteText(text, contentType, _options);
            }
            catch (SharedMemoryException e) when (RefusedUnderLock(e.Code))
            {
                // Refused for the segment's state (under the lock, or before it for a payload that cannot fit):
                // a holder that died with the lock is still reported.
                WarnOfAbandonedLock(segment, afterWrite: false);
                throw;
            }

            WarnOfAbandonedLock(segment, afterWrite: true);
            return version;
        }

        private static bool RefusedUnderLock(SharedMemoryErrorCode code) =>
            code == SharedMemoryErrorCode.VersionMismatch
            || code == SharedMemoryErrorCode.ContentTypeMismatch
            || code == SharedMemoryErrorCode.InterruptedWrite
            || code == SharedMemoryErrorCode.PayloadTooLarge;

        private string Action(bool exists, SharedMemoryContentType contentType)
        {
            // Built from constants: this runs on every write, -WhatIf or not.
            string type = contentType switch
            {
                SharedMemoryContentType.Text => "Text",
                SharedMemoryContentType.Bytes => "Bytes",
                SharedMemoryContentType.CliXml => "CliXml",
                _ => contentType.ToString(),
            };
            string action = !exists
                ? "Create shared memory segment and write " + type + " payload"
                : Append ? "Append " + type + " payload to shared memory segment" : "Write " + type + " payload to shared memory segment";
            return _options?.IfVersion is long expected ? $"{action} if its version is {expected}" : action;
        }

        private string? ResolveFile()
        {
            if (ParameterSetName == LiteralPathSet)
            {
                return FileSystemPaths.Unresolved(this, LiteralPath, nameof(LiteralPath));
            }

            Collection<string> files = FileSystemPaths.Resolved(this, InFile, nameof(InFile));
            if (files.Count != 1)
            {
                ThrowTerminatingError(ErrorHelper.PathNotSingleFile(InFile, files.Count));
            }

            return files[0];
        }
    }
}
