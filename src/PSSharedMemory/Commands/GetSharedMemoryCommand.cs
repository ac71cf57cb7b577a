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
        private readonly System.Collections.Generic.List<string> _damaged = new System.Collections.Generic.List<string>();

        /// <summary>Names or wildcard patterns; all segments when omitted.</summary>
        [Parameter(
            Position = 0,
            ValueFromPipeline = true,
            ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(SegmentNameCompleter))]
        [SupportsWildcards]
        [AllowEmptyString]
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
                            if (info.Status == SharedMemorySegmentStatus.Damaged && !_damaged.Contains(info.Name))
                            {
                                _damaged.Add(info.Name);
                            }

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

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            if (_damaged.Count > 0)
            {
                WriteWarning(_damaged.Count == 1
                    ? $"'{_damaged[0]}' has a segment's name but is not a usable segment (its Problem property says why). Remove it with Remove-SharedMemory -Name '{_damaged[0]}'."
                    : $"{_damaged.Count} files have segment names but are not usable segments: {string.Join(", ", _damaged)}. Their Problem property says why; remove them with Remove-SharedMemory.");
            }
        }
    }
}
