using System;
using System.Collections.Generic;
using System.Management.Automation;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Commands
{
    /// <summary>
    /// Receive-SharedMemoryMessage: takes the oldest message of a queue (or several, -Count or -All, in one
    /// step), or looks at them without taking them (-Peek), and returns each message's value as
    /// Read-SharedMemory returns a segment's. With -Wait it blocks while the queue is empty.
    /// </summary>
    [Cmdlet(VerbsCommunications.Receive, "SharedMemoryMessage", DefaultParameterSetName = InputObjectSet, HelpUri = HelpLinks.Receive)]
    [OutputType(typeof(string), typeof(byte[]), typeof(PSObject))]
    public sealed class ReceiveSharedMemoryMessageCommand : SegmentCommandBase
    {
        /// <summary>How many messages to take at most, in one step (default 1).</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int Count { get; set; } = 1;

        /// <summary>Take every message the queue holds, in one step.</summary>
        [Parameter]
        public SwitchParameter All { get; set; }

        /// <summary>Return the messages without taking them: they stay for the next receiver.</summary>
        [Parameter]
        public SwitchParameter Peek { get; set; }

        /// <summary>Block while the queue is empty (or does not exist yet), until a message comes.</summary>
        [Parameter]
        public SwitchParameter Wait { get; set; }

        /// <summary>With -Wait: how long to wait for a message (default: no limit), then WaitTimeout. Otherwise: how long to wait for the queue's lock (default 30 s).</summary>
        [Parameter]
        [TimeoutTransformation]
        public TimeSpan? Timeout { get; set; }

        /// <summary>Return each message as one string, decoded as UTF-8, whatever was sent.</summary>
        [Parameter]
        public SwitchParameter AsText { get; set; }

        /// <summary>Return each message as one byte[], whatever was sent.</summary>
        [Parameter]
        [Alias("AsByteArray")]
        public SwitchParameter AsByteStream { get; set; }

        /// <inheritdoc />
        protected override SharedMemorySegmentKind WorksOn => SharedMemorySegmentKind.Queue;

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            if (AsText && AsByteStream)
            {
                ThrowTerminatingError(ErrorHelper.ConflictingOutput("-AsText and -AsByteStream"));
            }

            if (All && MyInvocation.BoundParameters.ContainsKey(nameof(Count)))
            {
                ThrowTerminatingError(ErrorHelper.ConflictingCount());
            }
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            string name = SegmentName;
            SharedMemoryScope scope = SegmentScope;
            try
            {
                // One deadline for the whole wait: for the queue to be created, then for a message.
                Deadline deadline = Deadline.After(Wait ? WaitTimeout : TimeSpan.Zero);
                for (int attempt = 0; ; attempt++)
                {
                    ISharedMemorySegment? segment = Wait ? OpenOrWait(name, scope, deadline) : SegmentCache.Open(SegmentStore, name, scope);
                    if (segment is null)
                    {
                        return;
                    }

                    try
                    {
                        Emit(segment, Take(segment, deadline));
                        return;
                    }
                    catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.Removed && attempt == 0 && !Wait)
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

        private int Max => All ? int.MaxValue : Count;

        private TimeSpan WaitTimeout => Timeout ?? System.Threading.Timeout.InfiniteTimeSpan;

        private ISharedMemorySegment? OpenOrWait(string name, SharedMemoryScope scope, Deadline deadline)
        {
            try
            {
                return SegmentCache.Open(SegmentStore, name, scope);
            }
            catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.NotFound)
            {
                // Not there yet: a sender creates it. The time spent here counts against -Timeout.
                WriteVerbose($"Queue '{name}' ({scope}) does not exist yet; waiting for a sender to create it.");
                ISharedMemorySegment? segment = WaitForCreation(SegmentStore, name, scope, deadline);
                if (segment is null)
                {
                    WriteError(ErrorHelper.QueueWaitTimeout(name, WaitTimeout, created: false, Target));
                }

                return segment;
            }
        }

        private IReadOnlyList<SharedMemoryContent> Take(ISharedMemorySegment segment, Deadline deadline)
        {
            TimeSpan wait = Wait ? deadline.Remaining : TimeSpan.Zero;
            if (wait != TimeSpan.Zero)
            {
                IReadOnlyList<SharedMemoryContent> messages = Peek
                    ? segment.Peek(Max, wait, StopToken)
                    : segment.Receive(Max, wait, StopToken);
                if (messages.Count == 0)
                {
                    WriteError(ErrorHelper.QueueWaitTimeout(segment.Name, WaitTimeout, created: true, Target));
                }

                return messages;
            }

            if (segment.Kind != SharedMemorySegmentKind.Queue)
            {
                // Let the engine refuse it: WrongKind, without taking a value segment's lock.
                return segment.Receive(Max, TimeSpan.Zero, StopToken);
            }

            // Without -Wait, only the messages there now, but the lock is worth waiting for: the engine waits
            // for the lock as long as for a message, so hold it first (the receive takes it again,
            // re-entrantly) and let the receive find the queue empty at once or not.
            IReadOnlyList<SharedMemoryContent> taken;
            using (segment.Lock(Wait ? SharedMemorySegment.DefaultLockTimeout : Timeout ?? SharedMemorySegment.DefaultLockTimeout, StopToken))
            {
                taken = Peek ? segment.Peek(Max, TimeSpan.Zero, StopToken) : segment.Receive(Max, TimeSpan.Zero, StopToken);
            }

            if (Wait && taken.Count == 0)
            {
                WriteError(ErrorHelper.QueueWaitTimeout(segment.Name, WaitTimeout, created: true, Target));
            }

            return taken;
        }

        private void Emit(ISharedMemorySegment segment, IReadOnlyList<SharedMemoryContent> messages)
        {
            foreach (SharedMemoryContent message in messages)
            {
                if (AsByteStream || (message.ContentType == SharedMemoryContentType.Bytes && !AsText))
                {
                    WriteObject(message.Data, enumerateCollection: false);
                }
                else if (AsText || message.ContentType == SharedMemoryContentType.Text)
                {
                    WriteObject(message.GetText());
                }
                else
                {
                    EmitObjects(segment, message);
                }
            }
        }

        private void EmitObjects(ISharedMemorySegment segment, SharedMemoryContent message)
        {
            object[] objects;
            try
            {
                objects = Payload.FromCliXml(message.GetText());
            }
            catch (Exception e) when (e is System.Xml.XmlException || e is InvalidOperationException || e is ArgumentException)
            {
                WriteError(ErrorHelper.InvalidCliXmlMessage(segment.Name, message.Version, e, Target));
                return;
            }

            foreach (object item in objects)
            {
                WriteObject(item, enumerateCollection: true);
            }
        }
    }
}
