using System;
using System.Collections.Generic;
using System.Management.Automation;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Commands
{
    /// <summary>
    /// Send-SharedMemoryMessage: adds messages to a queue, creating a missing queue of the default size. Each
    /// value piped with -Name (or -InputObject) is its own message, sent as it arrives; a run of piped bytes (a
    /// byte[] that PowerShell enumerated) is one Bytes message. Segment objects piped with -Value each get that message.
    /// </summary>
    /// <remarks>
    /// ConfirmImpact is Low, as for New-SharedMemory: a send adds a message and replaces nothing, so it asks
    /// only when $ConfirmPreference is Low; -WhatIf shows each send without making it.
    /// </remarks>
    [Cmdlet(VerbsCommunications.Send, "SharedMemoryMessage", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, HelpUri = HelpLinks.Send)]
    [OutputType(typeof(long))]
    public sealed class SendSharedMemoryMessageCommand : ScopedCommandBase
    {
        // -Name and -InputObject are in sets of their own: with -Name given, a piped message binds to -Value
        // at once, instead of PowerShell first trying (and failing) to convert it to a segment object.
        private const string NameSet = "Name";
        private const string InputObjectSet = "InputObject";

        private bool _piped;
        private bool _nameGiven;
        private string _pipedName = string.Empty;
        private SharedMemoryScope _pipedScope;
        private List<byte>? _bytes;

        /// <summary>The queue's name; or pipe segment objects instead.</summary>
        [Parameter(Position = 0, ParameterSetName = NameSet)]
        [ArgumentCompleter(typeof(SegmentNameCompleter))]
        [AllowEmptyString]
        public string Name { get; set; } = string.Empty;

        /// <summary>A queue's segment object (from Get- or New-SharedMemory, or its deserialized copy) to send to.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
        public SharedMemoryInfo? InputObject { get; set; }

        /// <summary>The message: a string (Text), a byte[] (Bytes) or any object (CliXml). Each piped value is a message.</summary>
        [Parameter(
            Mandatory = true,
            Position = 1,
            ValueFromPipeline = true,
            ParameterSetName = NameSet)]
        [Parameter(
            Mandatory = true,
            Position = 1,
            ValueFromPipeline = true,
            ParameterSetName = InputObjectSet)]
        [AllowNull]
        [AllowEmptyString]
        [AllowEmptyCollection]
        public object? Value { get; set; }

        /// <summary>How many levels of contained objects CliXml keeps, as for Export-Clixml.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int Depth { get; set; } = 2;

        /// <summary>How long to wait for room when the queue is full, and for its lock (default 30 s); then QueueFull.</summary>
        [Parameter]
        [TimeoutTransformation]
        public TimeSpan Timeout { get; set; } = SharedMemorySegment.DefaultLockTimeout;

        /// <summary>Return each message's version: its number in the queue, counting from 1.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <inheritdoc />
        protected override SharedMemorySegmentKind WorksOn => SharedMemorySegmentKind.Queue;

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            _nameGiven = MyInvocation.BoundParameters.ContainsKey(nameof(Name));

            // Values piped go, one message each, to the queue named here (by -Name, or by a segment object given
            // to -InputObject); without one they have nowhere to go.
            _piped = !MyInvocation.BoundParameters.ContainsKey(nameof(Value));
            if (!_piped)
            {
                return;
            }

            if (InputObject is null && !_nameGiven)
            {
                ThrowTerminatingError(ErrorHelper.MessageNameRequired());
            }

            _pipedName = InputObject?.Name ?? Name;
            _pipedScope = InputObject?.Scope ?? Scope;
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            if (_piped)
            {
                // PowerShell enumerates a piped byte[] into its bytes: gather them back into one message.
                if ((Value is PSObject wrapped ? wrapped.BaseObject : Value) is byte b)
                {
                    (_bytes ??= new List<byte>()).Add(b);
                    return;
                }

                SendGatheredBytes();
                SendValue(_pipedName, _pipedScope, Value);
                return;
            }

            if (InputObject is null && !_nameGiven)
            {
                ThrowTerminatingError(ErrorHelper.MessageNameRequired());
            }

            SendValue(InputObject?.Name ?? Name, InputObject?.Scope ?? Scope, Value);
        }

        /// <inheritdoc />
        protected override void EndProcessing() => SendGatheredBytes();

        private void SendGatheredBytes()
        {
            if (_bytes is null || _bytes.Count == 0)
            {
                return;
            }

            byte[] bytes = _bytes.ToArray();
            _bytes.Clear();
            SendPayload(_pipedName, _pipedScope, null, bytes, SharedMemoryContentType.Bytes);
        }

        private void SendValue(string name, SharedMemoryScope scope, object? value)
        {
            Payload.FromValue(value, Depth, out string? text, out byte[]? bytes, out SharedMemoryContentType contentType);
            SendPayload(name, scope, text, bytes, contentType);
        }

        private void SendPayload(string name, SharedMemoryScope scope, string? text, byte[]? bytes, SharedMemoryContentType contentType)
        {
            try
            {
                ISharedMemoryStore store = StoreFor(InputObject);
                bool cached = SegmentCache.TryGetUsable(store, name, scope, out ISharedMemorySegment? segment);
                bool exists = cached || store.Exists(name, scope);
                string action = exists
                    ? $"Send {contentType} message to shared memory queue"
                    : $"Create shared memory queue of {DefaultSize} bytes and send {contentType} message";
                if (!ShouldProcess($"{name} ({scope})", action))
                {
                    return;
                }

                for (int attempt = 0; ; attempt++)
                {
                    if (segment is null)
                    {
                        segment = SegmentCache.OpenOrCreateQueue(store, name, scope, DefaultSize, out bool created);
                        if (created)
                        {
                            WriteVerbose($"Created queue '{name}' ({scope}) of {segment.Size} bytes.");
                        }
                    }

                    try
                    {
                        long version = Send(segment, text, bytes, contentType);
                        if (PassThru)
                        {
                            WriteObject(version);
                        }

                        return;
                    }
                    catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.Removed && attempt == 0)
                    {
                        // Removed since we opened it: send to the current queue, or a new one, once.
                        SegmentCache.Evict(segment);
                        segment = null;
                    }
                }
            }
            catch (Exception e) when (IsReportable(e))
            {
                WriteFailure(e, name);
            }
        }

        private long Send(ISharedMemorySegment segment, string? text, byte[]? bytes, SharedMemoryContentType contentType)
        {
            if (Timeout == TimeSpan.Zero && segment.Kind == SharedMemorySegmentKind.Queue)
            {
                // -Timeout 0 means "only if there is room now", not "only if no other session is sending this
                // instant": the engine waits for the lock as long as for room, so hold the lock first (the
                // send takes it again, re-entrantly), and let the send find the queue full at once or not.
                using (segment.Lock(SharedMemorySegment.DefaultLockTimeout, StopToken))
                {
                    return SendNow(segment, text, bytes, contentType);
                }
            }

            return SendNow(segment, text, bytes, contentType);
        }

        private long SendNow(ISharedMemorySegment segment, string? text, byte[]? bytes, SharedMemoryContentType contentType) =>
            text is null
                ? segment.Send(bytes!, 0, bytes!.Length, contentType, Timeout, StopToken)
                : segment.SendText(text, contentType, Timeout, StopToken);
    }
}
