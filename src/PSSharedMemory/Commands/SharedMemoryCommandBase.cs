using System;
using System.Management.Automation;
using System.Threading;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Commands
{
    /// <summary>
    /// What every cmdlet shares: a cancellation token that Ctrl+C (StopProcessing) cancels, and error
    /// reporting through <see cref="ErrorHelper"/>.
    /// </summary>
    public abstract class SharedMemoryCommandBase : PSCmdlet, IDisposable
    {
        /// <summary>The default payload capacity of a segment that New- or Write-SharedMemory creates: 64 KiB.</summary>
        internal const long DefaultSize = 64 * 1024;

        private readonly CancellationTokenSource _stopping = new CancellationTokenSource();
        private ISharedMemoryStore? _store;

        /// <summary>
        /// The store to work on: Local (the shared memory of this machine), or the URI of a Redis server
        /// (redis://host:6379/0, rediss://user:password@host:6380/0). Default: the store PSSHAREDMEMORY_STORE
        /// names, else the local one. A piped segment object brings its own store.
        /// </summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Store { get; set; }

        /// <summary>
        /// The store for a segment: -Store when given, else the store <paramref name="input"/> (a piped segment
        /// object) remembers, else the session's (PSSHAREDMEMORY_STORE, or the local one).
        /// </summary>
        protected ISharedMemoryStore StoreFor(SharedMemoryInfo? input)
        {
            if (Store is null && input is not null && !string.IsNullOrEmpty(input.Store))
            {
                return StoreSelector.Resolve(input.Store, this);
            }

            return _store ??= StoreSelector.Resolve(Store, this);
        }

        /// <summary>Cancelled when the pipeline stops (Ctrl+C).</summary>
        protected CancellationToken StopToken => _stopping.Token;

        /// <inheritdoc />
        public void Dispose()
        {
            ReleaseResources();
            _stopping.Dispose();
        }

        /// <summary>Called once when PowerShell is done with the command, however it ended.</summary>
        protected virtual void ReleaseResources()
        {
        }

        /// <inheritdoc />
        protected override void StopProcessing() => _stopping.Cancel();

        /// <summary>Reports one failed item and lets the pipeline go on; a stop request stops instead.</summary>
        protected void WriteFailure(Exception exception, object? target)
        {
            if (exception is OperationCanceledException && StopToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }

            WriteError(ErrorHelper.FromException(exception, target, WorksOn));
        }

        /// <summary>What this cmdlet handles: values, or queues. Error advice is chosen by it.</summary>
        protected virtual SharedMemorySegmentKind WorksOn => SharedMemorySegmentKind.Value;

        /// <summary>
        /// Waits for a segment that does not exist yet to be created (the engine watches the store, so the wait
        /// returns as soon as another process publishes it); returns its handle, or null when
        /// <paramref name="deadline"/> passed first. Ctrl+C ends the wait.
        /// </summary>
        protected ISharedMemorySegment? WaitForCreation(ISharedMemoryStore store, string name, SharedMemoryScope scope, Deadline deadline)
        {
            try
            {
                return SegmentCache.Add(store.WaitForCreation(name, scope, deadline.Remaining, StopToken));
            }
            catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.WaitTimeout)
            {
                return null;
            }
        }

        /// <summary>
        /// After this command took a segment's lock (to lock or to write): warns of a lock holder that died
        /// holding it, naming its process. The report is taken from the segment's header, so it is shown once,
        /// by whichever locking command comes first, even when a read took the lock over before it.
        /// </summary>
        protected void WarnOfAbandonedLock(ISharedMemorySegment segment, bool afterWrite)
        {
            int dead;
            try
            {
                dead = segment.TakeAbandonedLockReport();
            }
            catch (Exception e) when (e is SharedMemoryException || e is ObjectDisposedException)
            {
                // Removed or closed meanwhile: nothing is left to report on.
                return;
            }

            if (dead != 0)
            {
                WriteWarning(ErrorHelper.AbandonedLockWarning(segment.Name, dead, afterWrite));
            }
        }

        /// <summary>True for the exceptions a cmdlet turns into an error record rather than a crash.</summary>
        protected static bool IsReportable(Exception exception) =>
            exception is SharedMemoryException
            || exception is OperationCanceledException
            || exception is System.IO.IOException
            || exception is UnauthorizedAccessException
            || exception is ObjectDisposedException;
    }

    /// <summary>Cmdlets that act in one scope: -Scope. A piped segment object brings its own scope instead.</summary>
    public abstract class ScopedCommandBase : SharedMemoryCommandBase
    {
        /// <summary>User: only this user's segments. Global: the machine-wide namespace.</summary>
        [Parameter]
        public SharedMemoryScope Scope { get; set; } = SharedMemoryScope.User;
    }

    /// <summary>
    /// Cmdlets that gather several segments before they act (Wait-SharedMemory, Register-SharedMemoryEvent):
    /// names (-Name, in -Scope) or piped segment objects (-InputObject, each in its own scope and past its
    /// own Version), handed one at a time to <see cref="Add"/>.
    /// </summary>
    public abstract class MultiSegmentCommandBase : ScopedCommandBase
    {
        /// <summary>Parameter set: segments by name.</summary>
        protected const string NameSet = "Name";

        /// <summary>Parameter set: segment objects.</summary>
        protected const string InputObjectSet = "InputObject";

        /// <summary>The names of the segments.</summary>
        [Parameter(
            Mandatory = true,
            Position = 0,
            ValueFromPipeline = true,
            ParameterSetName = NameSet)]
        [ArgumentCompleter(typeof(SegmentNameCompleter))]
        [SegmentNameArgument]
        [AllowEmptyString]
        public string[] Name { get; set; } = Array.Empty<string>();

        /// <summary>Segment objects, each taken past its own Version.</summary>
        [Parameter(
            Mandatory = true,
            ValueFromPipeline = true,
            ParameterSetName = InputObjectSet)]
        public SharedMemoryInfo[] InputObject { get; set; } = Array.Empty<SharedMemoryInfo>();

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            if (ParameterSetName == InputObjectSet)
            {
                foreach (SharedMemoryInfo segment in InputObject)
                {
                    if (segment is not null && TryStoreFor(segment, segment, out ISharedMemoryStore? store))
                    {
                        Add(store!, segment.Name, segment.Scope, segment.Version, segment);
                    }
                }

                return;
            }

            foreach (string name in Name)
            {
                if (TryStoreFor(null, name ?? string.Empty, out ISharedMemoryStore? store))
                {
                    Add(store!, name ?? string.Empty, Scope, null, name ?? string.Empty);
                }
            }
        }

        /// <summary>
        /// Takes one segment: its store, name and scope, the version to go past (null: the one this session
        /// saw last), and what the user gave for it (a name or a segment object), for error records.
        /// </summary>
        protected abstract void Add(ISharedMemoryStore store, string name, SharedMemoryScope scope, long? version, object given);

        private bool TryStoreFor(SharedMemoryInfo? input, object target, out ISharedMemoryStore? store)
        {
            try
            {
                store = StoreFor(input);
                return true;
            }
            catch (Exception e) when (IsReportable(e))
            {
                WriteFailure(e, target);
                store = null;
                return false;
            }
        }
    }

    /// <summary>Cmdlets that take segments by name (in a set of their own) or as segment objects (-InputObject) from the pipeline.</summary>
    public abstract class SegmentInputCommandBase : ScopedCommandBase
    {
        /// <summary>Parameter set: the segment by name (typed, or piped as a string).</summary>
        protected const string NameSet = "Name";

        /// <summary>Parameter set: a segment object from Get- or New-SharedMemory.</summary>
        protected const string InputObjectSet = "InputObject";

        /// <summary>A segment object from Get-, New- or Write-SharedMemory, or its deserialized copy.</summary>
        [Parameter(
            Mandatory = true,
            ValueFromPipeline = true,
            ParameterSetName = InputObjectSet)]
        public SharedMemoryInfo? InputObject { get; set; }
    }

    /// <summary>Cmdlets that act on one segment, given by -Name or by a segment object (-InputObject) from the pipeline.</summary>
    public abstract class SegmentCommandBase : SegmentInputCommandBase
    {
        /// <summary>The segment's name.</summary>
        [Parameter(
            Mandatory = true,
            Position = 0,
            ValueFromPipeline = true,
            ParameterSetName = NameSet)]
        [ArgumentCompleter(typeof(SegmentNameCompleter))]
        [SegmentNameArgument]
        [AllowEmptyString]
        public string Name { get; set; } = string.Empty;

        /// <summary>The name of the segment this record is about.</summary>
        protected string SegmentName => InputObject is null ? Name : InputObject.Name;

        /// <summary>The scope of the segment this record is about.</summary>
        protected SharedMemoryScope SegmentScope => InputObject is null ? Scope : InputObject.Scope;

        /// <summary>The store of the segment this record is about.</summary>
        protected ISharedMemoryStore SegmentStore => StoreFor(InputObject);

        /// <summary>What error records name as their target: the input as given.</summary>
        protected object Target => (object?)InputObject ?? Name;
    }
}
