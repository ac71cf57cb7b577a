using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace PSSharedMemory
{
    /// <summary>
    /// Completes New-SharedMemory -Name: lists the names already taken, so a clash shows before it fails.
    /// Never file names: a new name has nothing to do with the current folder.
    /// </summary>
    public sealed class NewSegmentNameCompleter : SegmentNameCompleter, IArgumentCompleter
    {
        /// <inheritdoc />
        IEnumerable<CompletionResult> IArgumentCompleter.CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var taken = CompleteArgument(commandName, parameterName, wordToComplete, commandAst, fakeBoundParameters)
                .Select(result => new CompletionResult(result.CompletionText, result.ListItemText, CompletionResultType.ParameterValue, "Already exists: " + result.ToolTip))
                .ToList();
            if (taken.Count == 0 && !string.IsNullOrEmpty(wordToComplete))
            {
                // Nothing taken starts so: keep the word as typed, rather than let PowerShell offer files.
                taken.Add(new CompletionResult(wordToComplete, wordToComplete, CompletionResultType.ParameterValue, "No segment has this name yet."));
            }

            return taken;
        }
    }
}

namespace PSSharedMemory
{
    /// <summary>
    /// Lock-SharedMemory's first position is -ScriptBlock when a segment is piped and -Name otherwise; completion
    /// sees the piped form, so this offers segment names there until a name has been given.
    /// </summary>
    public sealed class FirstPositionCompleter : SegmentNameCompleter, IArgumentCompleter
    {
        /// <inheritdoc />
        IEnumerable<CompletionResult> IArgumentCompleter.CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            bool named = fakeBoundParameters is not null && (fakeBoundParameters.Contains("Name") || fakeBoundParameters.Contains("InputObject"));
            bool piped = commandAst?.Parent is PipelineAst pipeline && pipeline.PipelineElements.Count > 1 && pipeline.PipelineElements[0] != commandAst;
            return named || piped
                ? Enumerable.Empty<CompletionResult>()
                : CompleteArgument(commandName, parameterName, wordToComplete, commandAst!, fakeBoundParameters!);
        }
    }
}
