using System;
using System.Management.Automation;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Commands
{
    /// <summary>Get-SharedMemory: lists segments, all of the scope's or those whose names match.</summary>
    [Cmdlet(VerbsCommon.Get, "SharedMemory")]
    [OutputType(typeof(SharedMemoryInfo))]
    public sealed class GetSharedMemoryCommand : SharedMemoryCommandBase
    {
        private static readonly string[] s_all = { "*" };

        /// <summary>Names or wildcard patterns; all segments when omitted.</summary>
        [Parameter(
            Position = 0,
            ValueFromPipeline = true,
            ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(SegmentNameCompleter))]
        [SupportsWildcards]
        [ValidateNotNull]
        public string[] Name { get; set; } = s_all;

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            foreach (string name in Name)
            {
                try
                {
                    if (WildcardPattern.ContainsWildcardCharacters(name))
                    {
                        foreach (SharedMemorySegmentInfo info in SharedMemorySegment.List(name, Scope))
                        {
                            WriteObject(new SharedMemoryInfo(info));
                        }

                        continue;
                    }

                    using SharedMemorySegment segment = SharedMemorySegment.Open(name, Scope);
                    WriteObject(new SharedMemoryInfo(segment.GetInfo()));
                }
                catch (Exception e) when (IsReportable(e))
                {
                    WriteFailure(e, name);
                }
            }
        }
    }
}
