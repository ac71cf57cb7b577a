using System;
using System.Management.Automation;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Commands
{
    /// <summary>Unlock-SharedMemory: releases one level of a lock that Lock-SharedMemory took in this runspace.</summary>
    [Cmdlet(VerbsCommon.Unlock, "SharedMemory", DefaultParameterSetName = InputObjectSet, HelpUri = HelpLinks.Unlock)]
    [OutputType(typeof(SharedMemoryInfo))]
    public sealed class UnlockSharedMemoryCommand : SegmentCommandBase
    {
        /// <summary>Return the segment object after releasing the lock.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            string name = SegmentName;
            SharedMemoryScope scope = SegmentScope;
            try
            {
                Engine.SegmentName.Validate(name);
                if (!SegmentCache.TryGetCached(SegmentStore, name, scope, out ISharedMemorySegment? segment) || !segment!.IsLockHeld)
                {
                    WriteError(ErrorHelper.NotLocked(name, Target));
                    return;
                }

                segment.Unlock();
                if (segment.IsRemoved)
                {
                    if (!segment.IsLockHeld)
                    {
                        SegmentCache.Evict(segment);
                    }

                    return;
                }

                if (PassThru)
                {
                    WriteObject(new SharedMemoryInfo(segment.GetInfo()));
                }
            }
            catch (Exception e) when (IsReportable(e))
            {
                WriteFailure(e, Target);
            }
        }
    }
}
