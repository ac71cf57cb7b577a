using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Language;
using PSSharedMemory.Engine;

namespace PSSharedMemory
{
    /// <summary>
    /// Completes segment names with the existing segments of the scopes the command line asks for (-Scope; User
    /// by default); for Send- and Receive-SharedMemoryMessage, with the queues among them.
    /// </summary>
    public class SegmentNameCompleter : IArgumentCompleter
    {
        /// <inheritdoc />
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string word = (wordToComplete ?? string.Empty).Trim('\'', '"');
            var results = new List<CompletionResult>();
            var pattern = new WildcardPattern(WildcardPattern.Escape(word) + "*", WildcardOptions.IgnoreCase);
            foreach (SharedMemoryScope scope in ScopesOf(fakeBoundParameters))
            {
                IReadOnlyList<SharedMemorySegmentInfo> segments;
                try
                {
                    segments = StoreSelector.Resolve(fakeBoundParameters?["Store"] as string, null).List("*", scope);
                }
                catch (Exception)
                {
                    // Completion must never break the command line.
                    continue;
                }

                foreach (SharedMemorySegmentInfo segment in segments)
                {
                    if (pattern.IsMatch(segment.Name) && Offers(segment, commandName))
                    {
                        string text = NeedsQuotes(segment.Name) ? "'" + segment.Name + "'" : segment.Name;
                        string tooltip = segment.Kind == SharedMemorySegmentKind.Queue
                            ? $"{segment.Name} (Queue, {segment.MessageCount} messages, {segment.Length} of {segment.Size} bytes, {scope})"
                            : $"{segment.Name} ({segment.ContentType}, {segment.Length} of {segment.Size} bytes, {scope})";
                        results.Add(new CompletionResult(text, segment.Name, CompletionResultType.ParameterValue, tooltip));
                    }
                }
            }

            return results;
        }

        /// <summary>Whether to offer this segment: only queues to Send- and Receive-SharedMemoryMessage, where a value segment would fail.</summary>
        private static bool Offers(SharedMemorySegmentInfo segment, string? commandName) =>
            segment.Kind == SharedMemorySegmentKind.Queue
            || commandName is null
            || !commandName.EndsWith("-SharedMemoryMessage", StringComparison.OrdinalIgnoreCase);

        /// <summary>The scopes named by -Scope on the command line: one or several, All, or User when absent or unreadable.</summary>
        internal static IEnumerable<SharedMemoryScope> ScopesOf(IDictionary? fakeBoundParameters)
        {
            var scopes = new List<SharedMemoryScope>();
            object? given = fakeBoundParameters is not null && fakeBoundParameters.Contains("Scope") ? fakeBoundParameters["Scope"] : null;
            given = given is PSObject wrapped ? wrapped.BaseObject : given;
            IEnumerable items = given is string || given is null ? new[] { given } : given as IEnumerable ?? new[] { given };
            foreach (object? item in items)
            {
                object? value = item is PSObject itemWrapped ? itemWrapped.BaseObject : item;
                string text = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;
                if (value is SharedMemoryScope typed)
                {
                    Add(typed);
                }
                else if (string.Equals(text, "All", StringComparison.OrdinalIgnoreCase))
                {
                    Add(SharedMemoryScope.User);
                    Add(SharedMemoryScope.Global);
                }
                else if (Enum.TryParse(text, true, out SharedMemoryScope parsed) && Enum.IsDefined(typeof(SharedMemoryScope), parsed))
                {
                    Add(parsed);
                }
            }

            if (scopes.Count == 0)
            {
                scopes.Add(SharedMemoryScope.User);
            }

            return scopes;

            void Add(SharedMemoryScope scope)
            {
                if (!scopes.Contains(scope))
                {
                    scopes.Add(scope);
                }
            }
        }

        // Names are [A-Za-z0-9][A-Za-z0-9._-]*; PowerShell would parse some of them (1e5, 0x10, 12.5) as numbers.
        private static bool NeedsQuotes(string name)
        {
            foreach (char c in name)
            {
                if (!char.IsLetterOrDigit(c) && c != '_' && c != '-' && c != '.')
                {
                    return true;
                }
            }

            return char.IsDigit(name[0]);
        }
    }
}
