using System;
using System.Management.Automation;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Commands
{
    /// <summary>
    /// Remove-SharedMemory: deletes segments; sessions that still have one open see it as removed. Its data
    /// is lost, like a deleted file's, so ConfirmImpact is Medium: -Confirm or $ConfirmPreference = 'Medium' asks.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "SharedMemory", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    public sealed class RemoveSharedMemoryCommand : SharedMemoryCommandBase
    {
        private const string NameSet = "Name";
        private const string InputObjectSet = "InputObject";

        /// <summary>Names or wildcard patterns of the segments to remove.</summary>
        [Parameter(
            Mandatory = true,
            Position = 0,
            ValueFromPipeline = true,
            ValueFromPipelineByPropertyName = true,
            ParameterSetName = NameSet)]
        [ArgumentCompleter(typeof(SegmentNameCompleter))]
        [SupportsWildcards]
        public string[] Name { get; set; } = Array.Empty<string>();

        /// <summary>A segment object from Get- or New-SharedMemory.</summary>
        [Parameter(
            Mandatory = true,
            ValueFromPipeline = true,
            ParameterSetName = InputObjectSet)]
        public SharedMemoryInfo? InputObject { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            if (InputObject is not null)
            {
                RemoveOne(InputObject.Name, InputObject.Scope, InputObject);
                return;
            }

            foreach (string name in Name)
            {
                try
                {
                    if (WildcardPattern.ContainsWildcardCharacters(name))
                    {
                        foreach (SharedMemorySegmentInfo info in SharedMemorySegment.List(name, Scope))
                        {
                            RemoveOne(info.Name, Scope, name);
                        }

                        continue;
                    }

                    if (!SharedMemorySegment.Exists(name, Scope))
                    {
                        WriteError(NotFound(name, Scope));
                        continue;
                    }

                    RemoveOne(name, Scope, name);
                }
                catch (Exception e) when (IsReportable(e))
                {
                    WriteFailure(e, name);
                }
            }
        }

        private void RemoveOne(string name, SharedMemoryScope scope, object target)
        {
            if (!ShouldProcess($"{name} ({scope})", "Remove shared memory segment"))
            {
                return;
            }

            try
            {
                if (SegmentCache.TryGetCached(name, scope, out SharedMemorySegment? cached))
                {
                    SegmentCache.Evict(cached!);
                }

                if (!SharedMemorySegment.Remove(name, scope))
                {
                    WriteError(NotFound(name, scope));
                }
            }
            catch (Exception e) when (IsReportable(e))
            {
                WriteFailure(e, target);
            }
        }

        private static ErrorRecord NotFound(string name, SharedMemoryScope scope) => ErrorHelper.FromSharedMemory(
            new SharedMemoryException(SharedMemoryErrorCode.NotFound, name,
                $"No shared memory segment named '{name}' exists{(scope == SharedMemoryScope.Global ? " in the global scope" : string.Empty)}. List the existing ones with Get-SharedMemory."),
            name);
    }
}
