using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Language;
using PSSharedMemory.Engine;

namespace PSSharedMemory
{
    /// <summary>Completes -Name with the names of existing segments in the scope the command line asks for.</summary>
    public sealed class SegmentNameCompleter : IArgumentCompleter
    {
        /// <inheritdoc />
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string word = (wordToComplete ?? string.Empty).Trim('\'', '"');
            SharedMemoryScope scope = SharedMemoryScope.User;
            if (fakeBoundParameters is not null && fakeBoundParameters.Contains("Scope"))
            {
                object? given = fakeBoundParameters["Scope"];
                given = given is PSObject wrapped ? wrapped.BaseObject : given;
                if (given is SharedMemoryScope typed)
                {
                    scope = typed;
                }
                else if (!Enum.TryParse(Convert.ToString(given, System.Globalization.CultureInfo.InvariantCulture), true, out scope))
                {
                    scope = SharedMemoryScope.User;
                }
            }

            IReadOnlyList<SharedMemorySegmentInfo> segments;
            try
            {
                segments = SharedMemorySegment.List("*", scope);
            }
            catch (Exception)
            {
                // Completion must never break the command line.
                yield break;
            }

            var pattern = new WildcardPattern(word + "*", WildcardOptions.IgnoreCase);
            foreach (SharedMemorySegmentInfo segment in segments)
            {
                if (!pattern.IsMatch(segment.Name))
                {
                    continue;
                }

                string text = NeedsQuotes(segment.Name) ? "'" + segment.Name + "'" : segment.Name;
                string tooltip = $"{segment.Name} ({segment.ContentType}, {segment.Length} of {segment.Size} bytes, {scope})";
                yield return new CompletionResult(text, segment.Name, CompletionResultType.ParameterValue, tooltip);
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
