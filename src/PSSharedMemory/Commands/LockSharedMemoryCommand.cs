using System;
using System.Management.Automation;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Commands
{
    /// <summary>
    /// Lock-SharedMemory: takes the segment's cross-process lock, either around a script block (released
    /// however the block ends) or until Unlock-SharedMemory, Remove-Module or the end of the process.
    /// </summary>
    [Cmdlet(VerbsCommon.Lock, "SharedMemory", DefaultParameterSetName = InputObjectSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, HelpUri = HelpLinks.Lock)]
    [OutputType(typeof(PSObject), typeof(SharedMemoryInfo))]
    public sealed class LockSharedMemoryCommand : SegmentCommandBase
    {
        /// <summary>Run this while holding the lock, release it afterwards, and return the block's output.</summary>
        /// <remarks>Positional after -Name, and first when the segment comes from the pipeline.</remarks>
        [Parameter(
            Position = 1,
            ParameterSetName = NameSet)]
        [Parameter(
            Position = 0,
            ParameterSetName = InputObjectSet)]
        [ArgumentCompleter(typeof(FirstPositionCompleter))]
        public ScriptBlock? ScriptBlock { get; set; }

        /// <summary>How long to wait for the lock (default 30 s; -1 waits without limit).</summary>
        [Parameter]
        [TimeoutTransformation]
        public TimeSpan Timeout { get; set; } = SharedMemorySegment.DefaultLockTimeout;

        /// <summary>Without -ScriptBlock: return the segment object once the lock is held.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            string name = SegmentName;
            SharedMemoryScope scope = SegmentScope;
            bool exists;
            try
            {
                exists = SegmentCache.TryGetCached(SegmentStore, name, scope, out _) || SegmentStore.Exists(name, scope);
            }
            catch (Exception e) when (IsReportable(e))
            {
                WriteFailure(e, Target);
                return;
            }

            if (!ShouldProcess($"{name} ({scope})", exists ? "Lock shared memory segment" : $"Create growable shared memory segment of {Payload.AutoSize(0)} bytes and lock it"))
            {
                return;
            }

            ISharedMemorySegment segment;
            IDisposable held;
            try
            {
                segment = AcquireLock(name, scope, out held);
            }
            catch (Exception e) when (IsReportable(e))
            {
                WriteFailure(e, Target);
                return;
            }

            if (ScriptBlock is null)
            {
                // Held by this runspace's handle until Unlock-SharedMemory.
                if (PassThru)
                {
                    WriteObject(new SharedMemoryInfo(segment.GetInfo()));
                }

                return;
            }

            // A steppable pipeline begun with this cmdlet streams the block's output, errors and other
            // streams through this cmdlet. Created per call: script blocks belong to the runspace that first runs them.
            SteppablePipeline block = ScriptBlock.Create("param($Block) & $Block").GetSteppablePipeline(CommandOrigin.Internal, new object[] { ScriptBlock });
            try
            {
                block.Begin(this);
                block.Process();
                block.End();
            }
            finally
            {
                block.Dispose();
                try
                {
                    held.Dispose();
                }
                catch (Exception e) when (e is SharedMemoryException || e is ObjectDisposedException)
                {
                    // The block removed the segment or closed the handle; the lock is gone with it.
                }
            }
        }

        private ISharedMemorySegment AcquireLock(string name, SharedMemoryScope scope, out IDisposable held)
        {
            for (int attempt = 0; ; attempt++)
            {
                ISharedMemorySegment segment = SegmentCache.OpenOrCreate(SegmentStore, name, scope, Payload.AutoSize(0), out bool created);
                if (created)
                {
                    WriteVerbose($"Created segment '{name}' ({scope}) of {segment.Size} bytes to lock it.");
                }

                try
                {
                    held = segment.Lock(Timeout, StopToken);

                    // The header keeps the report of a holder that died with the lock until a command that
                    // can tell the user takes it, even when a read took the lock over first.
                    WarnOfAbandonedLock(segment, afterWrite: false);
                    return segment;
                }
                catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.Removed && attempt == 0)
                {
                    SegmentCache.Evict(segment);
                }
            }
        }
    }
}
