using System;
using System.Management.Automation;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Commands
{
    /// <summary>
    /// Remove-SharedMemory: deletes segments; sessions that still have one open see it as removed. Its data
    /// is lost, like a deleted file's, so ConfirmImpact is Medium: -Confirm or $ConfirmPreference = 'Medium' asks.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "SharedMemory", DefaultParameterSetName = InputObjectSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpLinks.Remove)]
    public sealed class RemoveSharedMemoryCommand : SegmentInputCommandBase
    {
        /// <summary>Names or wildcard patterns of the segments to remove.</summary>
        [Parameter(
            Mandatory = true,
            Position = 0,
            ValueFromPipeline = true,
            ParameterSetName = NameSet)]
        [ArgumentCompleter(typeof(SegmentNameCompleter))]
        [SegmentNameArgument]
        [SupportsWildcards]
        [AllowEmptyString]
        public string[] Name { get; set; } = Array.Empty<string>();

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            if (InputObject is not null)
            {
                ISharedMemoryStore store;
                try
                {
                    store = StoreFor(InputObject);
                }
                catch (Exception e) when (IsReportable(e))
                {
                    WriteFailure(e, InputObject);
                    return;
                }

                RemoveOne(store, InputObject.Name, InputObject.Scope, InputObject);
                return;
            }

            foreach (string name in Name)
            {
                try
                {
                    if (WildcardPattern.ContainsWildcardCharacters(name))
                    {
                        foreach (SharedMemorySegmentInfo info in StoreFor(null).List(name, Scope))
                        {
                            RemoveOne(StoreFor(null), info.Name, Scope, name);
                        }

                        continue;
                    }

                    if (!StoreFor(null).Exists(name, Scope))
                    {
                        WriteError(ErrorHelper.NotFound(name, Scope, name));
                        continue;
                    }

                    RemoveOne(StoreFor(null), name, Scope, name);
                }
                catch (Exception e) when (IsReportable(e))
                {
                    WriteFailure(e, name);
                }
            }
        }

        private void RemoveOne(ISharedMemoryStore store, string name, SharedMemoryScope scope, object target)
        {
            if (!ShouldProcess($"{name} ({scope})", "Remove shared memory segment"))
            {
                return;
            }

            try
            {
                if (SegmentCache.TryGetCached(store, name, scope, out ISharedMemorySegment? cached))
                {
                    SegmentCache.Evict(cached!);
                }

                if (!store.Remove(name, scope))
                {
                    WriteError(ErrorHelper.NotFound(name, scope, target));
                }
            }
            catch (Exception e) when (IsReportable(e))
            {
                WriteFailure(e, target);
            }
        }
    }
}
