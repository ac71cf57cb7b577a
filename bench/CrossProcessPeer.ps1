#Requires -Version 7.2
<#
.SYNOPSIS
    The second pwsh of Compare-Alternatives.ps1's cross-process cases: the far end of the wake-up and
    ping-pong rounds, through the cmdlets and through a named pipe, between the same two processes.

.DESCRIPTION
    Connects to two named pipes the first process serves: a control pipe, on which rounds are started and
    ended, and a data pipe, the baseline's channel. Then, for each command on the control pipe, it answers
    "ready", runs the round and answers "done <n>", where n is the number of methods the runtime of this
    process has compiled so far. A command is "<kind> <count>":

      wake-shm N        N times: sleep GapMilliseconds, take the Stopwatch timestamp, then
                        Write-SharedMemory -Name <WakeName> -Value "<i> <timestamp>".
      wake-pipe N       the same with $data.WriteLine("<i> <timestamp>"); $data.Flush().
      pingpong-shm N    N times: Read-SharedMemory -Name <PingName> -Wait, then
                        Write-SharedMemory -Name <PongName> -Value <what it read>.
      pingpong-pipe N   N times: ReadLine on the data pipe, then WriteLine of the same line and Flush.
      pingpong-floor N  the same with two Write-Output -InputObject calls between the ReadLine and the
                        WriteLine: the pipe round trip plus this side's two trivial cmdlet calls.
      exit              ends the process.

    Stopwatch reads the monotonic clock, which both processes share, so the first process subtracts the
    timestamp in a message from the moment its own call returned: the one-way latency.
    Both mechanisms are driven the same way, by PowerShell statements in the same loop, paced by the same
    [Threading.Thread]::Sleep call.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $ModulePath,

    [Parameter(Mandatory)]
    [string] $ControlPipe,

    [Parameter(Mandatory)]
    [string] $DataPipe,

    [Parameter(Mandatory)]
    [string] $WakeName,

    [Parameter(Mandatory)]
    [string] $PingName,

    [Parameter(Mandatory)]
    [string] $PongName,

    [int] $GapMilliseconds = 3
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

Import-Module (Join-Path $ModulePath 'PSSharedMemory.psd1')
# A first read makes the current version of each segment one this session has seen, so that each later
# Read-SharedMemory -Wait waits for the next write, even one that lands before the wait begins.
foreach ($segmentName in $WakeName, $PingName, $PongName) { $null = Read-SharedMemory -Name $segmentName }

$control = [IO.Pipes.NamedPipeClientStream]::new('.', $ControlPipe, [IO.Pipes.PipeDirection]::InOut)
$data = [IO.Pipes.NamedPipeClientStream]::new('.', $DataPipe, [IO.Pipes.PipeDirection]::InOut)
try {
    $control.Connect(60000)
    $data.Connect(60000)
    $controlReader = [IO.StreamReader]::new($control)
    $controlWriter = [IO.StreamWriter]::new($control)
    $controlWriter.AutoFlush = $true
    $r = [IO.StreamReader]::new($data)
    $w = [IO.StreamWriter]::new($data)
    $gap = $GapMilliseconds

    while ($null -ne ($command = $controlReader.ReadLine())) {
        $kind, $countText = $command -split ' '
        if ($kind -eq 'exit') { break }
        $count = [int]$countText
        $controlWriter.WriteLine('ready')
        switch ($kind) {
            'wake-shm' {
                for ($i = 0; $i -lt $count; $i++) {
                    [Threading.Thread]::Sleep($gap)
                    $ts = [Diagnostics.Stopwatch]::GetTimestamp()
                    Write-SharedMemory -Name $WakeName -Value "$i $ts"
                }
            }
            'wake-pipe' {
                for ($i = 0; $i -lt $count; $i++) {
                    [Threading.Thread]::Sleep($gap)
                    $ts = [Diagnostics.Stopwatch]::GetTimestamp()
                    $w.WriteLine("$i $ts"); $w.Flush()
                }
            }
            'wake-floor' {
                # The pipe one way, with one trivial compiled cmdlet call on each side: what any cmdlet pair costs.
                for ($i = 0; $i -lt $count; $i++) {
                    [Threading.Thread]::Sleep($gap)
                    $ts = [Diagnostics.Stopwatch]::GetTimestamp()
                    $line = Write-Output -InputObject "$i $ts"
                    $w.WriteLine($line); $w.Flush()
                }
            }
            'pingpong-shm' {
                for ($i = 0; $i -lt $count; $i++) {
                    $message = Read-SharedMemory -Name $PingName -Wait -Timeout 60
                    Write-SharedMemory -Name $PongName -Value $message
                }
            }
            'pingpong-pipe' {
                for ($i = 0; $i -lt $count; $i++) {
                    $message = $r.ReadLine()
                    $w.WriteLine($message); $w.Flush()
                }
            }
            'pingpong-floor' {
                for ($i = 0; $i -lt $count; $i++) {
                    $message = $r.ReadLine()
                    $null = Write-Output -InputObject $message
                    $null = Write-Output -InputObject $message
                    $w.WriteLine($message); $w.Flush()
                }
            }
            default { throw "Unknown command '$command'." }
        }

        # With the number of methods the runtime has compiled so far: the first process warms up until
        # neither process compiles any more (its code is optimized, and no compiler thread competes).
        $controlWriter.WriteLine("done $([System.Runtime.JitInfo]::GetCompiledMethodCount($false))")
    }
}
finally {
    $data.Dispose()
    $control.Dispose()
}
