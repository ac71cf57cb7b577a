using System;
using System.Collections.Generic;
using System.Management.Automation;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Commands
{
    /// <summary>
    /// Wait-SharedMemory: blocks until any of several segments changes, and returns the segment objects of
    /// those that did, so a loop can read exactly those. Names and piped segment objects are gathered
    /// first; the one wait covers them all.
    /// </summary>
    /// <remarks>
    /// What "changed" means: a version newer than the one this session last saw for the segment (read,
    /// written, or returned by this cmdlet), or, when it has seen none, newer than the one the segment had
    /// when this session first waited on it, which is then kept as seen. So a loop of waits misses no write
    /// that lands between two of them, whether or not it reads the segment. A piped segment object waits
    /// past its own Version instead. A missing segment is waited for until it is created and written; a
    /// removal ends the wait with a SharedMemoryRemoved error.
    /// </remarks>
    [Cmdlet(VerbsLifecycle.Wait, "SharedMemory", DefaultParameterSetName = NameSet, HelpUri = HelpLinks.Wait)]
    [OutputType(typeof(SharedMemoryInfo))]
    public sealed class WaitSharedMemoryCommand : MultiSegmentCommandBase
    {
        /// <summary>How often names that do not exist yet are looked for.</summary>
        private const int CreationPollMilliseconds = 50;

        private readonly List<Target> _targets = new List<Target>();
        private readonly List<object> _given = new List<object>();

        /// <summary>How long to wait (default: no limit; -1 also waits without limit).</summary>
        [Parameter]
        [TimeoutTransformation]
        public TimeSpan? Timeout { get; set; }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            if (_targets.Count == 0)
            {
                return;
            }

            object target = _given.Count == 1 ? _given[0] : _given.ToArray();
            TimeSpan timeout = Timeout ?? System.Threading.Timeout.InfiniteTimeSpan;
            try
            {
                Wait(Deadline.After(timeout), timeout, target);
            }
            catch (Exception e) when (IsReportable(e))
            {
                WriteFailure(e, target);
            }
        }

        /// <inheritdoc />
        protected override void Add(ISharedMemoryStore store, string name, SharedMemoryScope scope, long? version, object given)
        {
            _given.Add(given);
            foreach (Target existing in _targets)
            {
                if (existing.Name == name && existing.Scope == scope && existing.Store == store)
                {
                    // Named twice: waited on once, past the lower of the versions given.
                    if (version is long lower && (existing.Version is null || lower < existing.Version))
                    {
                        existing.Version = lower;
                    }

                    return;
                }
            }

            _targets.Add(new Target(store, name, scope, version, given));
        }

        private void Wait(Deadline deadline, TimeSpan timeout, object target)
        {
            while (true)
            {
                // Open what exists; a name that came to exist during the wait is new as a whole.
                var open = new List<Target>();
                var missing = new List<string>();
                for (int i = 0; i < _targets.Count; i++)
                {
                    Target item = _targets[i];
                    if (item.Segment is null && !TryOpen(item))
                    {
                        if (item.Failed)
                        {
                            _targets.RemoveAt(i--);
                            continue;
                        }

                        missing.Add(item.Name);
                        continue;
                    }

                    open.Add(item);
                }

                if (_targets.Count == 0)
                {
                    // Every name failed, and each said why.
                    return;
                }

                int remaining = deadline.RemainingMilliseconds;
                if (open.Count == 0)
                {
                    if (remaining == 0)
                    {
                        WriteError(ErrorHelper.WaitTimeout(Names(), missing, timeout, target));
                        return;
                    }

                    if (StopToken.WaitHandle.WaitOne(Math.Min(remaining, CreationPollMilliseconds)))
                    {
                        throw new OperationCanceledException(StopToken);
                    }

                    continue;
                }

                var segments = new ISharedMemorySegment[open.Count];
                var since = new long[open.Count];
                for (int i = 0; i < open.Count; i++)
                {
                    segments[i] = open[i].Segment!;
                    since[i] = open[i].Since;
                }

                // While a name is missing, look for it again between short waits.
                TimeSpan slice = missing.Count == 0 || remaining <= CreationPollMilliseconds
                    ? deadline.Remaining
                    : TimeSpan.FromMilliseconds(CreationPollMilliseconds);
                IReadOnlyList<int> ready;
                try
                {
                    if (!StoreWaits.TryWaitForAny(segments, since, slice, StopToken, out ready))
                    {
                        if (deadline.HasPassed)
                        {
                            WriteError(ErrorHelper.WaitTimeout(Names(), missing, timeout, target));
                            return;
                        }

                        continue;
                    }
                }
                catch (ObjectDisposedException)
                {
                    // This session closed a handle meanwhile (Remove-SharedMemory, or a full handle cache):
                    // open those names again.
                    foreach (Target item in open)
                    {
                        if (item.Segment!.IsDisposed)
                        {
                            item.Segment = null;
                        }
                    }

                    continue;
                }

                Report(open, ready);
                return;
            }
        }

        /// <summary>Opens one target's segment; false when it does not exist yet, or failed (reported, and marked).</summary>
        private bool TryOpen(Target item)
        {
            try
            {
                item.Segment = SegmentCache.Open(item.Store, item.Name, item.Scope);
            }
            catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.NotFound)
            {
                item.WasMissing = true;
                return false;
            }
            catch (Exception e) when (IsReportable(e) && !(e is OperationCanceledException))
            {
                WriteFailure(e, item.Given);
                item.Failed = true;
                return false;
            }

            // A piped object waits past its Version. A name waits past what this session has seen; a segment
            // created during the wait has had every write since it came to exist.
            item.Since = item.Version ?? (item.WasMissing ? 0 : SeenVersions.Baseline(item.Segment));
            return true;
        }

        private void Report(List<Target> open, IReadOnlyList<int> ready)
        {
            foreach (int index in ready)
            {
                Target item = open[index];
                ISharedMemorySegment segment = item.Segment!;
                try
                {
                    SharedMemoryInfo info = new SharedMemoryInfo(segment.GetInfo());
                    SeenVersions.Record(segment, info.Version);
                    WriteObject(info);
                }
                catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.Removed)
                {
                    SegmentCache.Evict(segment);
                    WriteFailure(e, item.Given);
                }
                catch (Exception e) when (IsReportable(e))
                {
                    WriteFailure(e, item.Given);
                }
            }
        }

        private List<string> Names()
        {
            var names = new List<string>(_targets.Count);
            foreach (Target item in _targets)
            {
                names.Add(item.Name);
            }

            return names;
        }

        private sealed class Target
        {
            public Target(ISharedMemoryStore store, string name, SharedMemoryScope scope, long? version, object given)
            {
                Store = store;
                Name = name;
                Scope = scope;
                Version = version;
                Given = given;
            }

            public ISharedMemoryStore Store { get; }

            public string Name { get; }

            public SharedMemoryScope Scope { get; }

            /// <summary>The Version of a piped segment object; null for a name.</summary>
            public long? Version { get; set; }

            /// <summary>What the user gave, for error records.</summary>
            public object Given { get; }

            public ISharedMemorySegment? Segment { get; set; }

            public long Since { get; set; }

            public bool Failed { get; set; }

            /// <summary>True once the name was found to have no segment during this wait.</summary>
            public bool WasMissing { get; set; }
        }
    }
}
