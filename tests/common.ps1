# Dot-sourced by every *.Tests.ps1: imports the built module (never bin/), and gives tests the pwsh
# to start child processes with.
$ErrorActionPreference = 'Stop'

$script:ModulePath = if ($env:PSSHAREDMEMORY_TEST_MODULE) {
    $env:PSSHAREDMEMORY_TEST_MODULE
}
else {
    $manifest = Import-PowerShellDataFile -Path (Join-Path $PSScriptRoot '../PSSharedMemory.psd1')
    Join-Path $PSScriptRoot "../output/PSSharedMemory/$($manifest.ModuleVersion)"
}
$script:ModuleManifest = Join-Path $script:ModulePath 'PSSharedMemory.psd1'
if (-not (Test-Path -LiteralPath $script:ModuleManifest)) {
    throw "The built module is not at '$script:ModulePath'. Run ./build.ps1 -Task Build first."
}
Import-Module $script:ModuleManifest -Force

# Jobs, runspaces and child processes find the built module by name, as they would an installed one.
$script:ModuleSearchPath = Split-Path (Split-Path $script:ModulePath)
if (($env:PSModulePath -split [IO.Path]::PathSeparator) -notcontains $script:ModuleSearchPath) {
    $env:PSModulePath = $script:ModuleSearchPath + [IO.Path]::PathSeparator + $env:PSModulePath
}

. (Join-Path $PSScriptRoot '../tools/PwshPath.ps1')
$script:PwshPath = Get-PwshPath

function Remove-TestFolder([string] $Path) {
    # Windows deletes a file that another handle still has open only when that handle closes, and until then
    # the file keeps its folder from being deleted ("Directory is not empty"). A removed segment's file can be
    # in that state for a moment after Remove-SharedMemory returns (seen once under Wine), so the folder of a
    # test's own store is removed again until it goes, for at most 10 s; then the last error stands.
    $deadline = [DateTime]::UtcNow.AddSeconds(10)
    while ($true) {
        try {
            Remove-Item -LiteralPath $Path -Recurse -Force -ErrorAction Stop
            return
        }
        catch [System.IO.IOException] {
            if ([IO.Path]::DirectorySeparatorChar -ne '\') { throw }
            if ([DateTime]::UtcNow -gt $deadline) { throw }
            Start-Sleep -Milliseconds 50
        }
    }
}

function New-TestSegmentName([string] $Prefix = 'test') {
    # Unique per test, so tests never see each other's segments.
    '{0}-{1}' -f $Prefix, [guid]::NewGuid().ToString('N').Substring(0, 12)
}

function Start-Runspace([string] $Script) {
    # Runs a script asynchronously in a separate runspace of this process, with the module imported.
    $ps = [powershell]::Create()
    $null = $ps.AddScript("`$ErrorActionPreference = 'Stop'; Import-Module '$script:ModuleManifest'; $Script")
    [pscustomobject]@{ PowerShell = $ps; Async = $ps.BeginInvoke() }
}

function Invoke-ChildPwsh {
    <#
        Runs a script in a separate pwsh process with the built module imported, and returns its
        standard output lines. Fails when the child fails or outlives the (generous) timeout.
    #>
    param(
        [Parameter(Mandatory)] [string] $Script,
        [int] $TimeoutSeconds = 120
    )
    $process = Start-ChildPwsh -Script $Script
    Wait-ChildPwsh -Process $process -TimeoutSeconds $TimeoutSeconds
}

function Invoke-ChildPwshWithLimit {
    # Like Invoke-ChildPwsh, in a child whose open-file limit is lowered (ulimit -n) first. Unix only.
    param(
        [Parameter(Mandatory)] [string] $Script,
        [Parameter(Mandatory)] [int] $OpenFiles,
        [int] $TimeoutSeconds = 120
    )
    $process = Start-ChildPwsh -Script $Script -OpenFiles $OpenFiles
    Wait-ChildPwsh -Process $process -TimeoutSeconds $TimeoutSeconds
}

function Start-ChildPwsh {
    # Starts a script in a separate pwsh process with the built module imported; returns the Process.
    param([Parameter(Mandatory)] [string] $Script, [int] $OpenFiles)
    $wrapped = "`$ErrorActionPreference = 'Stop'; Import-Module '$script:ModuleManifest'; " + $Script
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($wrapped))
    $info = [System.Diagnostics.ProcessStartInfo]::new($script:PwshPath)
    $arguments = '-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded
    if ($OpenFiles) {
        $info.FileName = '/bin/sh'
        $arguments = @('-c', "ulimit -n $OpenFiles && exec `"`$0`" `"`$@`"", $script:PwshPath) + $arguments
    }
    if ($info.PSObject.Properties['ArgumentList']) {
        foreach ($argument in $arguments) { $info.ArgumentList.Add($argument) }
    }
    else {
        # .NET Framework (Windows PowerShell 5.1): none of the arguments contains a space or a quote.
        $info.Arguments = $arguments -join ' '
    }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.UseShellExecute = $false
    $process = Start-ProcessRetrying $info
    # Read both streams asynchronously so a chatty child never blocks on a full pipe.
    $process | Add-Member -NotePropertyName StdOutTask -NotePropertyValue $process.StandardOutput.ReadToEndAsync()
    $process | Add-Member -NotePropertyName StdErrTask -NotePropertyValue $process.StandardError.ReadToEndAsync()
    $process
}

function Start-ProcessRetrying([System.Diagnostics.ProcessStartInfo] $Info) {
    # Under Wine, starting a process once failed with "Internal error" (a Win32Exception from CreateProcess)
    # in a full run, where the same start succeeds at once when tried again. On Windows a start that fails
    # so is tried again, with a line saying so, for at most 10 s; then the last error stands. Elsewhere it
    # fails at once.
    $deadline = [DateTime]::UtcNow.AddSeconds(10)
    while ($true) {
        try {
            return [System.Diagnostics.Process]::Start($Info)
        }
        catch {
            $win32 = $_.Exception.InnerException -is [System.ComponentModel.Win32Exception] -or $_.Exception -is [System.ComponentModel.Win32Exception]
            if (-not $win32 -or [IO.Path]::DirectorySeparatorChar -ne '\' -or [DateTime]::UtcNow -gt $deadline) { throw }
            Write-Host "Starting '$($Info.FileName)' failed ($($_.Exception.Message)); trying again."
            Start-Sleep -Milliseconds 100
        }
    }
}

function Wait-ChildPwsh {
    # Waits for a child started by Start-ChildPwsh; returns its output lines, or throws with its errors.
    param(
        [Parameter(Mandatory)] [System.Diagnostics.Process] $Process,
        [int] $TimeoutSeconds = 120
    )
    if (-not $Process.WaitForExit($TimeoutSeconds * 1000)) {
        try { $Process.Kill($true) } catch { $Process.Kill() }  # Kill(bool) is .NET Core only
        throw "The child pwsh did not finish within $TimeoutSeconds seconds."
    }
    $Process.WaitForExit()
    $stdout = $Process.StdOutTask.GetAwaiter().GetResult()
    $stderr = $Process.StdErrTask.GetAwaiter().GetResult()
    if ($Process.ExitCode -ne 0) {
        throw "The child pwsh failed (exit $($Process.ExitCode)): $stderr $stdout"
    }
    $stdout -split '\r?\n' | Where-Object { $_ -ne '' }
}

function Get-CliXmlCounts {
    # The module counts the payloads its fast CliXml writer and reader handle, and those they leave to
    # PSSerializer (internal properties of PSSharedMemory.FastCliXml); the counts tell which path ran.
    $type = [PSSharedMemory.SharedMemoryInfo].Assembly.GetType('PSSharedMemory.FastCliXml', $true)
    $flags = [Reflection.BindingFlags]'NonPublic, Static'
    $counts = [ordered]@{}
    foreach ($name in 'FastWrites', 'FallbackWrites', 'FastReads', 'FallbackReads') {
        $property = $type.GetProperty($name, $flags)
        if (-not $property) { throw "PSSharedMemory.FastCliXml has no $name count." }
        $counts[$name] = $property.GetValue($null)
    }
    [pscustomobject]$counts
}

# Which path a block's writes and reads took: Fast or PSSerializer, for each of writing and reading.
function Get-CliXmlPath([scriptblock] $Script) {
    $before = Get-CliXmlCounts
    $null = & $Script
    $after = Get-CliXmlCounts
    $write = if ($after.FastWrites -gt $before.FastWrites) { 'Fast' } elseif ($after.FallbackWrites -gt $before.FallbackWrites) { 'PSSerializer' } else { 'none' }
    $read = if ($after.FastReads -gt $before.FastReads) { 'Fast' } elseif ($after.FallbackReads -gt $before.FallbackReads) { 'PSSerializer' } else { 'none' }
    "write $write, read $read"
}

# The fast CliXml writer and reader bind to internals of PowerShell 7's System.Management.Automation once, and
# leave every payload to PSSerializer where they are missing. Windows PowerShell 5.1 has not been checked, so
# there the tests still compare the objects but not which path made them; everywhere else the path must hold,
# so that a fast path that silently stops running fails the tests.
$script:CliXmlPathUnchecked = 'which CliXml path runs is checked on PowerShell 7 only: the fast paths have not been verified on Windows PowerShell'
function Test-CliXmlPathChecked { $PSVersionTable.PSEdition -ne 'Desktop' }

# Runs Script and, where paths are checked, asserts the path its writes and reads took (see Get-CliXmlPath).
function Assert-CliXmlPath([string] $Path, [scriptblock] $Script) {
    if (Test-CliXmlPathChecked) { Get-CliXmlPath $Script | Should -Be $Path }
    else { $null = & $Script }
}

# Objects as PSSerializer writes them, which shows type names, property names and order, values and their
# types, DateTime kinds, and which items are the same object. The free and used space of a drive (in the
# PSDrive note of Get-ChildItem output) changes while the tests run, so it is left out.
function ConvertTo-CanonicalCliXml($Items) {
    # A SecureString is written encrypted, on Windows with a salt of its own each time: compare its place, not its bytes.
    [System.Management.Automation.PSSerializer]::Serialize(@($Items), 5) -replace '(<I64 N="(Used|Free)">)\d+', '$1#' -replace '(<SS( N="[^"]*")?>)[0-9a-fA-F]*(</SS>)', '$1#$3'
}

# An object's type names, base type and properties, read through PSObject itself: a note may be named psobject,
# and $x.PSObject would return it.
function Get-PSObjectView($Object) {
    Add-TestType
    $wrapper = [psobject]::AsPSObject($Object)
    [pscustomobject]@{
        TypeNames  = [PSSharedMemoryTests.ObjectView]::TypeNames($wrapper)
        BaseType   = [PSSharedMemoryTests.ObjectView]::BaseType($wrapper)
        Properties = [PSSharedMemoryTests.ObjectView]::Properties($wrapper)
    }
}

# The same objects: the same canonical CliXml, and, item by item, the same type names, properties in the same
# order with values of the same types (and DateTime kinds), and the same items being one object.
function Assert-SameObjects($Actual, $Expected) {
    $Actual = @($Actual)
    $Expected = @($Expected)
    ConvertTo-CanonicalCliXml $Actual | Should -BeExactly (ConvertTo-CanonicalCliXml $Expected)
    $Actual.Count | Should -Be $Expected.Count
    for ($i = 0; $i -lt $Expected.Count; $i++) {
        $a = $Actual[$i]
        $e = $Expected[$i]
        if ($null -eq $e) { $a | Should -BeNullOrEmpty; continue }
        $aw = Get-PSObjectView $a
        $ew = Get-PSObjectView $e
        ($aw.TypeNames -join ',') | Should -BeExactly ($ew.TypeNames -join ',')
        $aw.BaseType | Should -Be $ew.BaseType
        $expectedProperties = $ew.Properties
        $actualProperties = $aw.Properties
        ($actualProperties.Name -join ',') | Should -BeExactly ($expectedProperties.Name -join ',')
        for ($k = 0; $k -lt $expectedProperties.Count; $k++) {
            $property = $expectedProperties[$k].Name
            $av = $actualProperties[$k].Value
            $ev = $expectedProperties[$k].Value
            $(if ($null -eq $av) { 'null' } else { $av.GetType().FullName }) | Should -Be $(if ($null -eq $ev) { 'null' } else { $ev.GetType().FullName }) -Because "property $property"
            if ($null -ne $ev) {
                # A deserialized enum shows its name through a ToString of its own.
                [PSSharedMemoryTests.ObjectView]::ToStringOf($av) | Should -BeExactly ([PSSharedMemoryTests.ObjectView]::ToStringOf($ev)) -Because "property $property"
            }
            if ($ev -is [datetime]) { $av.Kind | Should -Be $ev.Kind -Because "property $property" }
            if ($ev -is [System.Collections.IDictionary] -and $ev.Count -gt 0) {
                # PSSerializer gives dictionaries PowerShell's case-insensitive keys (unless two keys clash).
                $key = @($ev.Keys)[0]
                if ($key -is [string]) { $av.Contains($key.ToUpperInvariant()) | Should -Be $ev.Contains($key.ToUpperInvariant()) -Because "property $property" }
            }
        }
        for ($j = 0; $j -lt $i; $j++) {
            [object]::ReferenceEquals($Actual[$j], $a) | Should -Be ([object]::ReferenceEquals($Expected[$j], $e)) -Because "items $j and $i"
        }
    }
}

# Test-only C#: a reader for header fields, a host that records confirmation prompts, and a view of objects. Compiled on
# first use, so test files that need neither do not pay for it.
$script:TestTypesSource = @'
using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Runtime.InteropServices;
using System.Security;

namespace PSSharedMemoryTests
{
    /// <summary>What PowerShell shows of an object as a PSObject, which script cannot ask when a note is named psobject.</summary>
    public static class ObjectView
    {
        public static string[] TypeNames(PSObject value) { return new List<string>(value.TypeNames).ToArray(); }
        public static Type BaseType(PSObject value) { return value.BaseObject.GetType(); }
        public static PSPropertyInfo[] Properties(PSObject value) { return new List<PSPropertyInfo>(value.Properties).ToArray(); }

        // The text and the ToString overloads a value shows: a ToString of its own differs from its base type's.
        public static string ToStringOf(PSObject value)
        {
            PSMethodInfo method = value.Methods["ToString"];
            return value.ToString() + " | " + (method == null ? "" : string.Join("; ", method.OverloadDefinitions));
        }
    }

    public static class SegmentHeaderReader
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        private static extern int Open(string path, int flags);

        [DllImport("libc", EntryPoint = "pread", SetLastError = true)]
        private static extern IntPtr PRead(int fd, byte[] buffer, UIntPtr count, IntPtr offset);

        [DllImport("libc", EntryPoint = "close")]
        private static extern int Close(int fd);

        // On Unix a FileStream takes a shared flock, which would make the segment's lock (an exclusive
        // flock) fail while the stream is open, and fails itself while the lock is held: read with pread.
        public static uint ReadUInt32(string path, int offset)
        {
            byte[] buffer = new byte[4];
            if (Path.DirectorySeparatorChar == '\\')
            {
                using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
                {
                    stream.Position = offset;
                    if (stream.Read(buffer, 0, 4) != 4) { throw new IOException("short read of " + path); }
                }
            }
            else
            {
                int fd = Open(path, 0);
                if (fd < 0) { throw new IOException("open " + path + ": errno " + Marshal.GetLastWin32Error()); }
                try
                {
                    if ((long)PRead(fd, buffer, (UIntPtr)4, (IntPtr)offset) != 4) { throw new IOException("short read of " + path); }
                }
                finally
                {
                    Close(fd);
                }
            }

            return BitConverter.ToUInt32(buffer, 0);
        }
    }

    /// <summary>A host whose UI records every PromptForChoice and answers with the choice labelled Answer.</summary>
    public sealed class PromptRecordingHost : PSHost
    {
        private readonly PromptRecordingUI _ui;
        private readonly Guid _id = Guid.NewGuid();

        public PromptRecordingHost(string answer) { _ui = new PromptRecordingUI(answer); }

        public List<string> Prompts { get { return _ui.Prompts; } }
        public override string Name { get { return "PromptRecordingHost"; } }
        public override Version Version { get { return new Version(1, 0); } }
        public override Guid InstanceId { get { return _id; } }
        public override CultureInfo CurrentCulture { get { return CultureInfo.CurrentCulture; } }
        public override CultureInfo CurrentUICulture { get { return CultureInfo.CurrentUICulture; } }
        public override PSHostUserInterface UI { get { return _ui; } }
        public override void EnterNestedPrompt() { throw new NotSupportedException(); }
        public override void ExitNestedPrompt() { throw new NotSupportedException(); }
        public override void NotifyBeginApplication() { }
        public override void NotifyEndApplication() { }
        public override void SetShouldExit(int exitCode) { }
    }

    public sealed class PromptRecordingUI : PSHostUserInterface
    {
        private readonly string _answer;
        public readonly List<string> Prompts = new List<string>();

        public PromptRecordingUI(string answer) { _answer = answer; }

        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
        {
            Prompts.Add(caption + ": " + message);
            var labels = new List<string>();
            for (int i = 0; i < choices.Count; i++)
            {
                string label = choices[i].Label.Replace("&", "");
                if (string.Equals(label, _answer, StringComparison.OrdinalIgnoreCase)) { return i; }
                labels.Add(label);
            }

            throw new InvalidOperationException("no choice is labelled '" + _answer + "'; the choices were " + string.Join(", ", labels));
        }

        public override PSHostRawUserInterface RawUI { get { return null; } }
        public override string ReadLine() { throw new NotSupportedException(); }
        public override SecureString ReadLineAsSecureString() { throw new NotSupportedException(); }
        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) { throw new NotSupportedException(); }
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) { throw new NotSupportedException(); }
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) { throw new NotSupportedException(); }
        public override void Write(string value) { }
        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) { }
        public override void WriteLine(string value) { }
        public override void WriteErrorLine(string value) { }
        public override void WriteDebugLine(string message) { }
        public override void WriteProgress(long sourceId, ProgressRecord record) { }
        public override void WriteVerboseLine(string message) { }
        public override void WriteWarningLine(string message) { }
    }
}
'@

function Add-TestType {
    if (-not ('PSSharedMemoryTests.ObjectView' -as [type])) {
        Add-Type -TypeDefinition $script:TestTypesSource
    }
}

function Get-SegmentWaiterCount {
    <#
        The number of waiters the header of segment Name counts on its lock or its change word, or, for a
        queue, on its space word (docs/segment-format.md: LockWaiters at 80, ChangeWaiters at 48,
        SpaceWaiters at 124). A waiter is counted just before it sleeps, so a count above zero is the
        handshake that says a wait has begun.
    #>
    param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [ValidateSet('Lock', 'Change', 'Space')] [string] $Word)
    Add-TestType
    $file = Join-Path ([PSSharedMemory.Engine.SharedMemorySegment]::GetStoreDirectory('User')) "$Name.pssm"
    $offset = switch ($Word) { 'Lock' { 80 } 'Change' { 48 } 'Space' { 124 } }
    [PSSharedMemoryTests.SegmentHeaderReader]::ReadUInt32($file, $offset)
}

function Wait-SegmentWaiter {
    # Waits (up to a generous minute) until the header counts a waiter on the lock, change or space word of Name.
    param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [ValidateSet('Lock', 'Change', 'Space')] [string] $Word, [scriptblock] $Abandon = { $false })
    $deadline = [datetime]::UtcNow.AddSeconds(60)
    while ((Get-SegmentWaiterCount -Name $Name -Word $Word) -eq 0) {
        if (& $Abandon) { throw "The wait on the $Word word of '$Name' ended before it was counted." }
        if ([datetime]::UtcNow -gt $deadline) { throw "Nothing waited on the $Word word of '$Name' within 60 seconds." }
        Start-Sleep -Milliseconds 5
    }
}

function Get-WaitForGoScript([string] $Name) {
    # Script for a child process: returns once segment Name holds 'go' (the parent's release), or after a
    # generous two minutes. Polling a condition, not sleeping for a time: the 20 ms is only the pace.
    "`$release = [datetime]::UtcNow.AddSeconds(120); while ((Read-SharedMemory '$Name' -ErrorAction SilentlyContinue) -ne 'go' -and [datetime]::UtcNow -lt `$release) { Start-Sleep -Milliseconds 20 }"
}

function New-PromptRecordingRunspace {
    # An open runspace, with the module imported, whose host records confirmation prompts and answers Answer.
    param([Parameter(Mandatory)] [ValidateSet('Yes', 'No')] [string] $Answer)
    Add-TestType
    $recordingHost = [PSSharedMemoryTests.PromptRecordingHost]::new($Answer)
    $runspace = [runspacefactory]::CreateRunspace($recordingHost)
    $runspace.Open()
    $ps = [powershell]::Create()
    $ps.Runspace = $runspace
    $null = $ps.AddScript("Import-Module '$script:ModuleManifest'").Invoke()
    $ps.Dispose()
    [pscustomobject]@{ Runspace = $runspace; Prompts = $recordingHost.Prompts }
}
