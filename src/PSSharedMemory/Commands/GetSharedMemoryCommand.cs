using System;
using System.Collections.Generic;
using System.Management.Automation;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Commands
{
    /// <summary>Get-SharedMemory: lists segments, all of the scopes' or those whose names match, or refreshes piped segment objects.</summary>
    [Cmdlet(VerbsCommon.Get, "SharedMemory", DefaultParameterSetName = NameSet, HelpUri = HelpLinks.Get)]
    [OutputType(typeof(SharedMemoryInfo))]
    public sealed class GetSharedMemoryCommand : SharedMemoryCommandBase
    {
        private const string NameSet = "Name";
        private const string InputObjectSet = "InputObject";
        private const string AllScopes = "All";

        private static readonly string[] s_all = { "*" };
        private readonly List<string> _damaged = new List<string>();
        private SharedMemoryScope[] _scopes = { SharedMemoryScope.User };

        /// <summary>Names or wildcard patterns; all segments when omitted.</summary>
        [Parameter(
            Position = 0,
            ValueFromPipeline = true,
            ParameterSetName = NameSet)]
        [ArgumentCompleter(typeof(SegmentNameCompleter))]
        [SegmentNameArgument]
        [SupportsWildcards]
        [AllowEmptyString]
        [ValidateNotNull]
        public string[] Name { get; set; } = s_all;

        /// <summary>A segment object to get again, as it is now.</summary>
        [Parameter(
            Mandatory = true,
            ValueFromPipeline = true,
            ParameterSetName = InputObjectSet)]
        public SharedMemoryInfo? InputObject { get; set; }

        /// <summary>The scopes to look in: User, Global, or All for both.</summary>
        [Parameter(ParameterSetName = NameSet)]
        [ValidateSet("User", "Global", AllScopes, IgnoreCase = true)]
        [ValidateNotNullOrEmpty]
        public string[] Scope { get; set; } = { nameof(SharedMemoryScope.User) };

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            var scopes = new List<SharedMemoryScope>();
            foreach (string given in Scope)
            {
                if (string.Equals(given, AllScopes, StringComparison.OrdinalIgnoreCase))
                {
                    Add(SharedMemoryScope.User);
                    Add(SharedMemoryScope.Global);
                }
                else
                {
                    Add((SharedMemoryScope)Enum.Parse(typeof(SharedMemoryScope), given, ignoreCase: true));
                }
            }

            _scopes = scopes.ToArray();

            void Add(SharedMemoryScope scope)
            {
                if (!scopes.Contains(scope))
                {
                    scopes.Add(scope);
                }
            }
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            if (InputObject is not null)
            {
                try
                {
                    using ISharedMemorySegment segment = StoreFor(InputObject).Open(InputObject.Name, InputObject.Scope);
                    WriteObject(new SharedMemoryInfo(segment.GetInfo()));
                }
                catch (Exception e) when (IsReportable(e))
                {
                    WriteFailure(e, InputObject);
                }

                return;
            }

            foreach (string name in Name)
            {
                if (WildcardPattern.ContainsWildcardCharacters(name))
                {
                    foreach (SharedMemoryScope scope in _scopes)
                    {
                        try
                        {
                            foreach (SharedMemorySegmentInfo info in StoreFor(null).List(name, scope))
                            {
                                if (info.Status == SharedMemorySegmentStatus.Damaged && !_damaged.Contains(info.Name))
                                {
                                    _damaged.Add(info.Name);
                                }

                                WriteObject(new SharedMemoryInfo(info));
                            }
                        }
                        catch (Exception e) when (IsReportable(e))
                        {
                            WriteFailure(e, name);
                        }
                    }

                    continue;
                }

                // A plain name: found in any of the scopes, an error only when in none.
                Exception? missing = null;
                bool found = false;
                foreach (SharedMemoryScope scope in _scopes)
                {
                    try
                    {
                        using ISharedMemorySegment segment = StoreFor(null).Open(name, scope);
                        WriteObject(new SharedMemoryInfo(segment.GetInfo()));
                        found = true;
                    }
                    catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.NotFound)
                    {
                        missing ??= e;
                    }
                    catch (Exception e) when (IsReportable(e))
                    {
                        WriteFailure(e, name);
                        found = true;
                    }
                }

                if (!found && missing is not null)
                {
                    WriteFailure(missing, name);
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
