#Requires -Version 7.2
<#
.SYNOPSIS
    The second process of Compare-Alternatives.ps1's cross-process cases.

.DESCRIPTION
    SharedMemory: every GapMilliseconds, writes its Stopwatch timestamp (taken just before the call) with
    Write-SharedMemory; the other process waits in Read-SharedMemory -Wait and subtracts.
    PipeOneWay: the same over a named pipe (one line per message).
    PipeRoundTrip: answers every line it reads with its timestamp, at once.
    Stopwatch reads the monotonic clock, which both processes share, so the difference is the latency.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [ValidateSet('SharedMemory', 'PipeOneWay', 'PipeRoundTrip')]
    [string] $Mode,

    [Parameter(Mandatory)]
    [string] $Name,

    [Parameter(Mandatory)]
    [int] $Rounds,

    [int] $GapMilliseconds = 2,

    [string] $ModulePath = ''
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

if ($Mode -eq 'SharedMemory') {
    Import-Module (Join-Path $ModulePath 'PSSharedMemory.psd1')
    # Warm up the cmdlets before the measured writes.
    for ($i = 0; $i -lt 20; $i++) {
        Write-SharedMemory -Name $Name -Value 'warm-up'
        Start-Sleep -Milliseconds $GapMilliseconds
    }

    for ($i = 0; $i -lt $Rounds; $i++) {
        Start-Sleep -Milliseconds $GapMilliseconds
        Write-SharedMemory -Name $Name -Value ([Diagnostics.Stopwatch]::GetTimestamp().ToString([cultureinfo]::InvariantCulture))
    }

    exit 0
}

$pipe = [IO.Pipes.NamedPipeClientStream]::new('.', $Name, [IO.Pipes.PipeDirection]::InOut)
try {
    $pipe.Connect(30000)
    $reader = [IO.StreamReader]::new($pipe)
    $writer = [IO.StreamWriter]::new($pipe)
    $writer.AutoFlush = $true
    if ($Mode -eq 'PipeOneWay') {
        for ($i = 0; $i -lt 20; $i++) {
            $writer.WriteLine('warm-up')
            Start-Sleep -Milliseconds $GapMilliseconds
        }

        for ($i = 0; $i -lt $Rounds; $i++) {
            Start-Sleep -Milliseconds $GapMilliseconds
            $writer.WriteLine([Diagnostics.Stopwatch]::GetTimestamp().ToString([cultureinfo]::InvariantCulture))
        }

        $writer.WriteLine('end')
    }
    else {
        while ($null -ne ($line = $reader.ReadLine())) {
            if ($line -eq 'end') { break }
            $writer.WriteLine([Diagnostics.Stopwatch]::GetTimestamp().ToString([cultureinfo]::InvariantCulture))
        }
    }
}
finally {
    $pipe.Dispose()
}
