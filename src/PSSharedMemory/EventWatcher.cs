using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Threading;
using PSSharedMemory.Engine;

namespace PSSharedMemory
{
    /// <summary>
    /// One background thread per session (runspace) that watches the segments of all the session's
    /// <see cref="SharedMemoryEventSource"/>s with one wait (<see cref="SharedMemorySegment.TryWaitForAny"/>),
    /// and raises their events. It starts with the first subscription and ends when the last one goes, when
    /// the module is removed, or when the runspace closes. It is a background thread, so it never keeps a
    /// process alive, and it only raises .NET events, which PowerShell queues for the session's own thread.
    /// </summary>
    /// <remarks>
    /// It owns its handles (never those of <see cref="SegmentCache"/>, which the session may close). A
    /// segment that does not exist is looked for every <see cref="CreationPollMilliseconds"/>; one that is
    /// removed is looked for again, and its successor's writes are reported from its first. A segment that
    /// fails otherwise (damaged, not permitted) is tried again every second: nothing on this thread may
    /// end it, and it has nowhere to report to.
    /// </remarks>
    internal sealed class EventWatcher
    {
        /// <summary>How often segments that do not exist yet are looked for.</summary>
        private const int CreationPollMilliseconds = 50;

        private const int RetryMilliseconds = 1000;

        private static readonly ConcurrentDictionary<Guid, EventWatcher> s_watchers = new ConcurrentDictionary<Guid, EventWatcher>();
        private static readonly ConcurrentDictionary<Guid, Runspace> s_watchedRunspaces = new ConcurrentDictionary<Guid, Runspace>();
        private static int s_liveThreads;

        private readonly object _gate = new object();
        private readonly List<SharedMemoryEventSource> _sources = new List<SharedMemoryEventSource>();
        private readonly List<SharedMemoryEventSource> _retired = new List<SharedMemoryEventSource>();
        private CancellationTokenSource _wake = new CancellationTokenSource();
        private Thread? _thread;

        /// <summary>Watcher threads running in this process, across all sessions (for tests and diagnostics).</summary>
        internal static int LiveThreads => Volatile.Read(ref s_liveThreads);

        /// <summary>Sources the watcher of the current session watches (for tests and diagnostics).</summary>
        internal static int SourcesOfCurrentRunspace()
        {
            Guid id = Runspace.DefaultRunspace?.InstanceId ?? Guid.Empty;
            if (!s_watchers.TryGetValue(id, out EventWatcher? watcher))
            {
                return 0;
            }

            lock (watcher._gate)
            {
                return watcher._sources.Count;
            }
        }

        /// <summary>Starts watching a source's segments; starts the session's thread if it is not running.</summary>
        public static void Attach(SharedMemoryEventSource source)
        {
            while (true)
            {
                EventWatcher watcher = s_watchers.GetOrAdd(source.RunspaceId, _ => new EventWatcher());
                lock (watcher._gate)
                {
                    // A watcher whose session ended meanwhile is gone from the table: use a fresh one.
                    if (!s_watchers.TryGetValue(source.RunspaceId, out EventWatcher? current) || !ReferenceEquals(current, watcher))
                    {
                        continue;
                    }

                    watcher._retired.Remove(source);
                    if (!watcher._sources.Contains(source))
                    {
                        watcher._sources.Add(source);
                    }

                    watcher.WakeLocked();
                    if (watcher._thread is null)
                    {
                        watcher._thread = new Thread(watcher.Run) { IsBackground = true, Name = "pssm-events" };
                        Interlocked.Increment(ref s_liveThreads);
                        watcher._thread.Start();
                    }

                    return;
                }
            }
        }

        /// <summary>Stops watching a source; the thread closes its handles, and ends when it was the last.</summary>
        public static void Detach(SharedMemoryEventSource source)
        {
            if (s_watchers.TryGetValue(source.RunspaceId, out EventWatcher? watcher))
            {
                lock (watcher._gate)
                {
                    if (watcher._sources.Remove(source))
                    {
                        watcher.Retire(source);
                        return;
                    }
                }
            }

            // Not watched any more: the session ended first, and its watcher closes the handles.
        }

        /// <summary>
        /// Remove-Module: ends the current session's subscriptions to this module's events, as Unregister-Event
        /// would, and stops its watcher. Other sessions keep theirs.
        /// </summary>
        public static void ReleaseCurrentRunspace()
        {
            Runspace? runspace = Runspace.DefaultRunspace;
            if (runspace is null)
            {
                return;
            }

            try
            {
                PSEventManager events = runspace.Events;
                foreach (PSEventSubscriber subscriber in events.Subscribers.ToArray())
                {
                    if (subscriber.SourceObject is SharedMemoryEventSource)
                    {
                        events.UnsubscribeEvent(subscriber);
                    }
                }
            }
            catch (Exception e) when (e is InvalidOperationException || e is PSInvalidOperationException || e is ArgumentException)
            {
                // The runspace is closing; stopping the watcher below is what matters.
            }

            Stop(runspace.InstanceId);
        }

        /// <summary>Stops the watcher of a runspace when that runspace closes, once per runspace.</summary>
        public static void WatchRunspace(Runspace? runspace)
        {
            if (runspace is not null && s_watchedRunspaces.TryAdd(runspace.InstanceId, runspace))
            {
                runspace.StateChanged += OnRunspaceStateChanged;
            }
        }

        private static void OnRunspaceStateChanged(object? sender, RunspaceStateEventArgs e)
        {
            RunspaceState state = e.RunspaceStateInfo.State;
            if (sender is Runspace runspace && (state == RunspaceState.Closed || state == RunspaceState.Broken || state == RunspaceState.Closing))
            {
                runspace.StateChanged -= OnRunspaceStateChanged;
                s_watchedRunspaces.TryRemove(runspace.InstanceId, out _);
                Stop(runspace.InstanceId);
            }
        }

        private static void Stop(Guid runspaceId)
        {
            if (s_watchers.TryRemove(runspaceId, out EventWatcher? watcher))
            {
                lock (watcher._gate)
                {
                    foreach (SharedMemoryEventSource source in watcher._sources)
                    {
                        watcher.Retire(source);
                    }

                    watcher._sources.Clear();
                    watcher.WakeLocked();
                }
            }
        }

        private void Retire(SharedMemoryEventSource source)
        {
            _retired.Add(source);
            WakeLocked();
            if (_thread is null)
            {
                // No thread to hand the handles to (it never started): close them here.
                _retired.Remove(source);
                source.ReleaseHandles();
            }
        }

        /// <summary>Ends the thread's current wait, so it takes up the new set of sources. The caller holds the gate.</summary>
        /// <remarks>
        /// The cancelled source is not disposed: the thread may still be about to use its token (its wait
        /// handle), and a disposed source's handle throws. It holds no timer, and the collector takes it.
        /// </remarks>
        private void WakeLocked()
        {
            _wake.Cancel();
            _wake = new CancellationTokenSource();
        }

        private void Run()
        {
            try
            {
                while (true)
                {
                    List<SharedMemoryEventSource> retired;
                    List<SharedMemoryEventSource>? sources = null;
                    CancellationToken token = default;
                    lock (_gate)
                    {
                        retired = new List<SharedMemoryEventSource>(_retired);
                        _retired.Clear();
                        if (_sources.Count == 0)
                        {
                            _thread = null;
                        }
                        else
                        {
                            sources = new List<SharedMemoryEventSource>(_sources);
                            token = _wake.Token;
                        }
                    }

                    foreach (SharedMemoryEventSource source in retired)
                    {
                        source.ReleaseHandles();
                    }

                    if (sources is null)
                    {
                        return;
                    }

                    try
                    {
                        Round(sources, token);
                    }
                    catch (Exception)
                    {
                        // Nothing may escape this thread, which would end the process. Whatever failed is
                        // tried again, after a pause that keeps a failure from spinning.
                        Pause(token);
                    }
                }
            }
            finally
            {
                Interlocked.Decrement(ref s_liveThreads);
            }
        }

        private static void Pause(CancellationToken token)
        {
            try
            {
                token.WaitHandle.WaitOne(RetryMilliseconds);
            }
            catch (Exception)
            {
                Thread.Sleep(100);
            }
        }

        /// <summary>One wait on every segment watched, and the events of those that changed.</summary>
        private static void Round(List<SharedMemoryEventSource> sources, CancellationToken token)
        {
            var open = new List<(SharedMemoryEventSource Source, WatchedSegment Watched)>();
            bool missing = false;
            long now = Stopwatch.GetTimestamp();
            foreach (SharedMemoryEventSource source in sources)
            {
                foreach (WatchedSegment watched in source.Segments)
                {
                    if (watched.Segment is null && !TryOpen(watched, now))
                    {
                        missing = true;
                        continue;
                    }

                    open.Add((source, watched));
                }
            }

            TimeSpan timeout = missing ? TimeSpan.FromMilliseconds(CreationPollMilliseconds) : Timeout.InfiniteTimeSpan;
            if (open.Count == 0)
            {
                token.WaitHandle.WaitOne(timeout);
                return;
            }

            var segments = new ISharedMemorySegment[open.Count];
            var since = new long[open.Count];
            for (int i = 0; i < open.Count; i++)
            {
                segments[i] = open[i].Watched.Segment!;
                since[i] = open[i].Watched.Since;
            }

            IReadOnlyList<int> ready;
            try
            {
                if (!StoreWaits.TryWaitForAny(segments, since, timeout, token, out ready))
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                // The set of sources changed, or the watcher stops.
                return;
            }
            catch (Exception e) when (e is SharedMemoryException || e is ObjectDisposedException)
            {
                // One of them was damaged or closed: set it aside and try it again later.
                foreach ((SharedMemoryEventSource _, WatchedSegment watched) in open)
                {
                    if (!IsUsable(watched.Segment))
                    {
                        Drop(watched, retry: true);
                    }
                }

                return;
            }

            foreach (int index in ready)
            {
                (SharedMemoryEventSource source, WatchedSegment watched) = open[index];
                SharedMemoryInfo info;
                try
                {
                    info = new SharedMemoryInfo(segments[index].GetInfo());
                }
                catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.Removed)
                {
                    // Removed: the next segment of that name is new, and each of its writes is reported.
                    Drop(watched, retry: false);
                    watched.Since = 0;
                    continue;
                }
                catch (Exception e) when (e is SharedMemoryException || e is ObjectDisposedException)
                {
                    Drop(watched, retry: true);
                    continue;
                }

                if (info.Version > watched.Since)
                {
                    watched.Since = info.Version;
                    source.Raise(new SharedMemoryChangedEventArgs(info));
                }
            }
        }

        private static bool TryOpen(WatchedSegment watched, long now)
        {
            if (now < watched.RetryAt)
            {
                return false;
            }

            try
            {
                watched.Segment = watched.Store.Open(watched.Name, watched.Scope);
                return true;
            }
            catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.NotFound)
            {
                return false;
            }
            catch (Exception e) when (e is SharedMemoryException || e is System.IO.IOException || e is UnauthorizedAccessException)
            {
                watched.RetryAt = now + RetryMilliseconds * Stopwatch.Frequency / 1000;
                return false;
            }
        }

        private static bool IsUsable(ISharedMemorySegment? segment)
        {
            try
            {
                return segment is not null && !segment.IsDisposed && segment.Version >= 0;
            }
            catch (Exception e) when (e is SharedMemoryException || e is ObjectDisposedException)
            {
                return false;
            }
        }

        private static void Drop(WatchedSegment watched, bool retry)
        {
            watched.Release();
            watched.RetryAt = retry ? Stopwatch.GetTimestamp() + RetryMilliseconds * Stopwatch.Frequency / 1000 : 0;
        }
    }
}
