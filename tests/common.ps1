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
    $process = [System.Diagnostics.Process]::Start($info)
    # Read both streams asynchronously so a chatty child never blocks on a full pipe.
    $process | Add-Member -NotePropertyName StdOutTask -NotePropertyValue $process.StandardOutput.ReadToEndAsync()
    $process | Add-Member -NotePropertyName StdErrTask -NotePropertyValue $process.StandardError.ReadToEndAsync()
    $process
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
