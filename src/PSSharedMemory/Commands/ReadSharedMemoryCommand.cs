using System;
using System.Management.Automation;
using System.Threading;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Commands
{
    /// <summary>Read-SharedMemory: returns what the segment holds, now, after its next change (-Wait), or once it is newer than a version (-NewerThan).</summary>
    [Cmdlet(VerbsCommunications.Read, "SharedMemory", DefaultParameterSetName = InputObjectSet, HelpUri = HelpLinks.Read)]
    [OutputType(typeof(string), typeof(byte[]), typeof(PSObject))]
    public sealed class ReadSharedMemoryCommand : SegmentCommandBase
    {
        private string? _outFilePath;
        private long? _newerThan;

        /// <summary>Block until the segment holds a version this session has not read or written (or is created and written), then read it. With a piped segment object: until its Version is passed.</summary>
        [Parameter]
        public SwitchParameter Wait { get; set; }

        /// <summary>
        /// Block until the segment's Version is greater than this (at once when it already is), then read it.
        /// Take the Version before starting the writer, and no write can slip past. Implies -Wait.
        /// </summary>
        [Parameter]
        [ValidateRange(0, long.MaxValue)]
        public long NewerThan { get; set; }

        /// <summary>With -Wait or -NewerThan: how long to wait for the change (default: no limit). Otherwise: how long to wait for the lock when writers keep a reader from a clean copy (default 30 s).</summary>
        [Parameter]
        [TimeoutTransformation]
        public TimeSpan? Timeout { get; set; }

        /// <summary>Return the payload as one string, decoded as UTF-8, whatever was stored.</summary>
        [Parameter]
        public SwitchParameter AsText { get; set; }

        /// <summary>Return the payload as one byte[], whatever was stored (the name Get-Content uses).</summary>
        [Parameter]
        [Alias("AsByteArray")]
        public SwitchParameter AsByteStream { get; set; }

        /// <summary>Return the payload, decoded as UTF-8, as an array of lines, as Get-Content does.</summary>
        [Parameter]
        public SwitchParameter Lines { get; set; }

        /// <summary>Save the payload bytes to this file instead of returning them.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string OutFile { get; set; } = string.Empty;

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            bool outFile = MyInvocation.BoundParameters.ContainsKey(nameof(OutFile));
            int chosen = (AsText ? 1 : 0) + (AsByteStream ? 1 : 0) + (Lines ? 1 : 0) + (outFile ? 1 : 0);
            if (chosen > 1)
            {
                ThrowTerminatingError(ErrorHelper.ConflictingOutput("-AsText, -AsByteStream, -Lines and -OutFile"));
            }

            if (outFile)
            {
                _outFilePath = FileSystemPaths.Unresolved(this, OutFile, nameof(OutFile));
            }

            if (MyInvocation.BoundParameters.ContainsKey(nameof(NewerThan)))
            {
                _newerThan = NewerThan;
            }
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            string name = SegmentName;
            SharedMemoryScope scope = SegmentScope;
            try
            {
                if (Waits)
                {
                    ISharedMemorySegment? changed = WaitForChange(name, scope);
                    if (changed is not null)
                    {
                        Emit(changed);
                    }

                    return;
                }

                for (int attempt = 0; ; attempt++)
                {
                    ISharedMemorySegment segment = SegmentCache.Open(SegmentStore, name, scope);
                    try
                    {
                        Emit(segment);
                        return;
                    }
                    catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.Removed && attempt == 0)
                    {
                        // Removed, and perhaps created again, since we opened it: open the current one once.
                        SegmentCache.Evict(segment);
                    }
                }
            }
            catch (Exception e) when (IsReportable(e))
            {
                WriteFailure(e, Target);
            }
        }

        private bool Waits => Wait || _newerThan.HasValue;

        // With -Wait, -Timeout bounds the wait for a change; the lock a read may need then gets the default.
        private TimeSpan LockTimeout => Waits ? SharedMemorySegment.DefaultLockTimeout : Timeout ?? SharedMemorySegment.DefaultLockTimeout;

        private void Emit(ISharedMemorySegment segment)
        {
            if (AsText || Lines)
            {
                // Decodes straight from the mapping, whatever the type: no intermediate byte[].
                string text = segment.ReadText(LockTimeout, StopToken, out _, out long version);
                SeenVersions.Record(segment, version);
                if (Lines)
                {
                    WriteObject(Payload.SplitLines(text), enumerateCollection: true);
                }
                else
                {
                    WriteObject(text);
                }

                return;
            }

            if (_outFilePath is not null || AsByteStream)
            {
                SharedMemoryContent content = segment.Read(LockTimeout, StopToken);
                SeenVersions.Record(segment, content.Version);
                if (_outFilePath is not null)
                {
                    System.IO.File.WriteAllBytes(_outFilePath, content.Data);
                }
                else
                {
                    WriteObject(content.Data, enumerateCollection: false);
                }

                return;
            }

            // One read returns what was stored as it should come back: text decoded straight from the
            // mapping, bytes as a new array.
            SharedMemoryContentType type = segment.ReadAsStored(LockTimeout, StopToken, out string? stored, out byte[]? bytes, out long storedVersion);
            SeenVersions.Record(segment, storedVersion);
            switch (type)
            {
                case SharedMemoryContentType.Bytes:
                    WriteObject(bytes, enumerateCollection: false);
                    break;
                case SharedMemoryContentType.CliXml:
                    EmitObjects(segment, stored!);
                    break;
                case SharedMemoryContentType.Text:
                    WriteObject(stored);
                    break;

                // Empty (never written): nothing to return.

            }
        }

        private void EmitObjects(ISharedMemorySegment segment, string xml)
        {
            object[] objects;
            try
            {
                objects = Payload.FromCliXml(xml);
            }
            catch (Exception e) when (e is System.Xml.XmlException || e is InvalidOperationException || e is ArgumentException)
            {
                WriteError(ErrorHelper.InvalidCliXml(segment.Name, e, Target));
                return;
            }

            foreach (object item in objects)
            {
                WriteObject(item, enumerateCollection: true);
            }
        }

        private ISharedMemorySegment? WaitForChange(string name, SharedMemoryScope scope)
        {
            TimeSpan timeout = Timeout ?? System.Threading.Timeout.InfiniteTimeSpan;
            Deadline deadline = Deadline.After(timeout);
            ISharedMemorySegment? segment = null;
            long since = 0;
            try
            {
                segment = SegmentCache.Open(SegmentStore, name, scope);

                // Wait past the latest version this session has read or written (a piped segment object: the
                // version it shows), so a write that landed between two waits is not missed.
                since = InputObject is null ? SeenVersions.WaitFrom(segment) : InputObject.Version;
            }
            catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.NotFound)
            {
                // Not there yet: wait for a writer to create it; its first write is the change.
                segment = WaitForCreation(SegmentStore, name, scope, deadline);
                if (segment is null)
                {
                    WriteError(ErrorHelper.CreationWaitTimeout(name, timeout, Target));
                    return null;
                }
            }

            if (segment.Kind == SharedMemorySegmentKind.Queue)
            {
                // The read after the wait would be refused: say so now rather than after the next send.
                WriteError(ErrorHelper.QueueNotReadable(name, Target));
                return null;
            }

            if (_newerThan is long newerThan)
            {
                segment.WaitForVersion(newerThan, deadline.Remaining, StopToken);
            }
            else
            {
                segment.WaitForChange(since, deadline.Remaining, StopToken);
            }

            return segment;
        }
    }
}
