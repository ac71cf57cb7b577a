using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Commands
{
    /// <summary>
    /// Register-SharedMemoryEvent: subscribes the session to PowerShell events raised when segments change,
    /// as Register-ObjectEvent subscribes to a .NET event: Wait-Event, Get-Event, -Action, Get-EventSubscriber
    /// and Unregister-Event work as they do for any event. One watcher thread per session serves every
    /// subscription (see <see cref="EventWatcher"/>).
    /// </summary>
    [Cmdlet(VerbsLifecycle.Register, "SharedMemoryEvent", DefaultParameterSetName = NameSet, HelpUri = HelpLinks.RegisterEvent)]
    [OutputType(typeof(PSEventJob))]
    public sealed class RegisterSharedMemoryEventCommand : MultiSegmentCommandBase
    {
        private readonly List<WatchedSegment> _segments = new List<WatchedSegment>();

        /// <summary>The name of the subscription, for Wait-Event, Get-Event and Unregister-Event; a new GUID by default.</summary>
        [Parameter(Position = 1)]
        [ValidateNotNullOrEmpty]
        public string? SourceIdentifier { get; set; }

        /// <summary>Script to run for each event, with $Event, $EventArgs, $Sender and $EventSubscriber set.</summary>
        [Parameter(Position = 2)]
        public ScriptBlock? Action { get; set; }

        /// <summary>Data handed to every event of the subscription, as $Event.MessageData.</summary>
        [Parameter]
        public PSObject? MessageData { get; set; }

        /// <summary>Hides the subscription (and its events) from Get-EventSubscriber and Get-Event unless -Force.</summary>
        [Parameter]
        public SwitchParameter SupportEvent { get; set; }

        /// <summary>Sends the events to the session that started this one remotely.</summary>
        [Parameter]
        public SwitchParameter Forward { get; set; }

        /// <summary>Unregisters the subscription after this many events; 0 (the default) for no limit.</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int MaxTriggerCount { get; set; }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            if (_segments.Count == 0)
            {
                return;
            }

            // Register-ObjectEvent's rule: one subscriber per source identifier in a session.
            if (SourceIdentifier is not null)
            {
                foreach (PSEventSubscriber _ in Events.GetEventSubscribers(SourceIdentifier))
                {
                    WriteError(ErrorHelper.SubscriberExists(SourceIdentifier));
                    return;
                }
            }

            Runspace runspace = Runspace.DefaultRunspace;
            var source = new SharedMemoryEventSource(runspace.InstanceId, _segments.ToArray());
            _segments.Clear();
            PSEventSubscriber subscriber;
            try
            {
                EventWatcher.WatchRunspace(runspace);
                subscriber = Events.SubscribeEvent(source, nameof(SharedMemoryEventSource.Changed), SourceIdentifier, MessageData, Action,
                    SupportEvent, Forward, MaxTriggerCount);
            }
            catch
            {
                source.Abandon();
                throw;
            }

            // As Register-ObjectEvent: the job that runs the action, unless the subscription is hidden.
            if (Action is not null && !SupportEvent)
            {
                WriteObject(subscriber.Action);
            }
        }

        /// <inheritdoc />
        protected override void ReleaseResources()
        {
            // Stopped before subscribing: the handles opened so far were never handed over.
            foreach (WatchedSegment segment in _segments)
            {
                segment.Release();
            }

            _segments.Clear();
        }

        /// <inheritdoc />
        protected override void Add(ISharedMemoryStore store, string name, SharedMemoryScope scope, long? version, object given)
        {
            foreach (WatchedSegment existing in _segments)
            {
                if (existing.Name == name && existing.Scope == scope && existing.Store == store)
                {
                    // Named twice: watched once, from the lower of the versions given.
                    if (version is long lower && lower < existing.Since)
                    {
                        existing.Since = lower;
                    }

                    return;
                }
            }

            // The watcher gets its own handle, opened now, so a write right after this command returns is an
            // event. A name with no segment yet is watched for its creation; its first write is an event.
            ISharedMemorySegment? segment = null;
            long since = 0;
            try
            {
                segment = store.Open(name, scope);
                since = version ?? segment.Version;
            }
            catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.NotFound)
            {
                since = version ?? 0;
            }
            catch (Exception e) when (IsReportable(e) && !(e is OperationCanceledException))
            {
                segment?.Dispose();
                WriteFailure(e, given);
                return;
            }

            _segments.Add(new WatchedSegment(store, name, scope, segment, since));
        }
    }
}
