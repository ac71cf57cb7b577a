using System;
using System.Collections.Generic;
using System.Threading;
using PSSharedMemory.Engine;

namespace PSSharedMemory
{
    /// <summary>
    /// What Register-SharedMemoryEvent subscribes to: a .NET event, <see cref="Changed"/>, raised when one of
    /// its segments changes. PowerShell's event manager subscribes to it as Register-ObjectEvent would, so
    /// Get-EventSubscriber shows it as the subscriber's SourceObject and $Event.Sender. The session's watcher
    /// thread (<see cref="EventWatcher"/>) watches its segments from the moment PowerShell subscribes to the
    /// event until the subscription ends (Unregister-Event, Remove-Module, or the session's end).
    /// </summary>
    public sealed class SharedMemoryEventSource
    {
        private readonly object _gate = new object();
        private EventHandler<SharedMemoryChangedEventArgs>? _changed;
        private bool _attached;

        internal SharedMemoryEventSource(Guid runspaceId, IReadOnlyList<WatchedSegment> segments)
        {
            RunspaceId = runspaceId;
            Segments = segments;
            var names = new string[segments.Count];
            for (int i = 0; i < names.Length; i++)
            {
                names[i] = segments[i].Name;
            }

            Name = names;
        }

        /// <summary>The names of the segments watched.</summary>
        public string[] Name { get; }

        /// <summary>
        /// Raised on the session's watcher thread after a segment changed: once for each change the watcher
        /// sees, with the version then, so writes in quick succession may be reported as one event with the
        /// latest version. PowerShell queues it for the session; it never runs script on the watcher thread.
        /// </summary>
        public event EventHandler<SharedMemoryChangedEventArgs>? Changed
        {
            add
            {
                bool attach;
                lock (_gate)
                {
                    _changed += value;
                    attach = _changed is not null && !_attached;
                    _attached |= attach;
                }

                if (attach)
                {
                    EventWatcher.Attach(this);
                }
            }

            remove
            {
                bool detach;
                lock (_gate)
                {
                    _changed -= value;
                    detach = _changed is null && _attached;
                    _attached &= !detach;
                }

                if (detach)
                {
                    EventWatcher.Detach(this);
                }
            }
        }

        internal Guid RunspaceId { get; }

        /// <summary>The segments watched, with the handles and versions only the watcher thread changes once attached.</summary>
        internal IReadOnlyList<WatchedSegment> Segments { get; }

        /// <summary>The names watched.</summary>
        public override string ToString() => string.Join(", ", Name);

        /// <summary>Raises <see cref="Changed"/> for whoever subscribes now. Never throws: it runs on the watcher thread.</summary>
        internal void Raise(SharedMemoryChangedEventArgs e)
        {
            EventHandler<SharedMemoryChangedEventArgs>? handler = Volatile.Read(ref _changed);
            if (handler is null)
            {
                return;
            }

            try
            {
                handler(this, e);
            }
            catch (Exception)
            {
                // The session's event manager is closing; there is no one left to tell.
            }
        }

        /// <summary>
        /// For a subscription that failed: forgets every handler and lets the watcher, or this thread when no
        /// watcher took the source, close the handles.
        /// </summary>
        internal void Abandon()
        {
            bool detach;
            lock (_gate)
            {
                _changed = null;
                detach = _attached;
                _attached = false;
            }

            if (detach)
            {
                EventWatcher.Detach(this);
            }
            else
            {
                ReleaseHandles();
            }
        }

        /// <summary>Closes the handles. Called by the watcher thread once the source is detached, or by <see cref="Abandon"/>.</summary>
        internal void ReleaseHandles()
        {
            foreach (WatchedSegment segment in Segments)
            {
                segment.Release();
            }
        }
    }

    /// <summary>One segment a <see cref="SharedMemoryEventSource"/> watches, with its own handle and the last version reported.</summary>
    internal sealed class WatchedSegment
    {
        public WatchedSegment(ISharedMemoryStore store, string name, SharedMemoryScope scope, ISharedMemorySegment? segment, long since)
        {
            Store = store;
            Name = name;
            Scope = scope;
            Segment = segment;
            Since = since;
        }

        public ISharedMemoryStore Store { get; }

        public string Name { get; }

        public SharedMemoryScope Scope { get; }

        private ISharedMemorySegment? _segment;

        /// <summary>Null while the segment does not exist (or could not be opened).</summary>
        public ISharedMemorySegment? Segment
        {
            get => Volatile.Read(ref _segment);
            set => Volatile.Write(ref _segment, value);
        }

        /// <summary>The version last reported, or the one at registration: an event is raised for anything newer.</summary>
        public long Since { get; set; }

        /// <summary>When to try opening again after a failure (Stopwatch ticks); 0 at once.</summary>
        public long RetryAt { get; set; }

        /// <summary>Closes the handle; safe to call more than once.</summary>
        public void Release() => Interlocked.Exchange(ref _segment, null)?.Dispose();
    }
}
