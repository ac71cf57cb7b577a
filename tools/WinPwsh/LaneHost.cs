using System;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace PSSharedMemory.WinPwsh
{
    /// <summary>A host that writes to the process's standard streams and records the script's exit code.</summary>
    internal sealed class LaneHost : PSHost
    {
        private readonly LaneUserInterface _ui = new LaneUserInterface();

        public int? ExitCode { get; private set; }

        public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;

        public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;

        public override Guid InstanceId { get; } = Guid.NewGuid();

        public override string Name => "PSSharedMemory Windows lane host";

        public override PSHostUserInterface UI => _ui;

        public override Version Version => new Version(1, 0);

        public override void EnterNestedPrompt() => throw new NotSupportedException();

        public override void ExitNestedPrompt() => throw new NotSupportedException();

        public override void NotifyBeginApplication()
        {
        }

        public override void NotifyEndApplication()
        {
        }

        public override void SetShouldExit(int exitCode) => ExitCode = exitCode;
    }

    internal sealed class LaneUserInterface : PSHostUserInterface
    {
        private readonly LaneRawUserInterface _raw = new LaneRawUserInterface();

        public override PSHostRawUserInterface RawUI => _raw;

        public override Dictionary<string, PSObject> Prompt(string caption, string message, System.Collections.ObjectModel.Collection<FieldDescription> descriptions) => throw NonInteractive();

        public override int PromptForChoice(string caption, string message, System.Collections.ObjectModel.Collection<ChoiceDescription> choices, int defaultChoice) => throw NonInteractive();

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw NonInteractive();

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw NonInteractive();

        public override string ReadLine() => Console.ReadLine() ?? string.Empty;

        public override SecureString ReadLineAsSecureString() => throw NonInteractive();

        public override void Write(string value) => Console.Write(value);

        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Console.Write(value);

        public override void WriteLine(string value) => Console.WriteLine(value);

        public override void WriteErrorLine(string value) => Console.Error.WriteLine(value);

        public override void WriteDebugLine(string message) => Console.WriteLine("DEBUG: " + message);

        public override void WriteProgress(long sourceId, ProgressRecord record)
        {
        }

        public override void WriteVerboseLine(string message) => Console.WriteLine("VERBOSE: " + message);

        public override void WriteWarningLine(string message) => Console.WriteLine("WARNING: " + message);

        private static PSInvalidOperationException NonInteractive() => new PSInvalidOperationException("The Windows lane host is not interactive.");
    }

    internal sealed class LaneRawUserInterface : PSHostRawUserInterface
    {
        public override ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;

        public override ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;

        public override Size BufferSize { get; set; } = new Size(160, 9999);

        public override Coordinates CursorPosition { get; set; }

        public override int CursorSize { get; set; }

        public override bool KeyAvailable => false;

        public override Size MaxPhysicalWindowSize => new Size(160, 50);

        public override Size MaxWindowSize => new Size(160, 50);

        public override Coordinates WindowPosition { get; set; }

        public override Size WindowSize { get; set; } = new Size(160, 50);

        public override string WindowTitle { get; set; } = string.Empty;

        public override void FlushInputBuffer()
        {
        }

        public override BufferCell[,] GetBufferContents(Rectangle rectangle) => throw new NotSupportedException();

        public override KeyInfo ReadKey(ReadKeyOptions options) => throw new NotSupportedException();

        public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) => throw new NotSupportedException();

        public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) => throw new NotSupportedException();

        public override void SetBufferContents(Rectangle rectangle, BufferCell fill) => throw new NotSupportedException();
    }
}
