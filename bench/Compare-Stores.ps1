<#
.SYNOPSIS
    Measures what going multi-host costs: the same cmdlets on the local store and on a local Redis store, in one run.

.DESCRIPTION
    Starts a private redis-server on 127.0.0.1 (tools/Start-RedisServer.ps1), then for each store:
    - Write+Read 100 B: Write-SharedMemory of a 100-byte array, then Read-SharedMemory of it, in one session;
    - Write+Read 1 MiB: the same with 1 MiB;
    - wake-up: a ping-pong between this session and a child pwsh, each waiting with Read-SharedMemory -Wait
      for the other's write; half the round trip is one write, one wake-up and one read.
    Each figure is the median of -Rounds rounds, in microseconds per operation; the table ends with the
    Redis/local ratio. Figures are for this machine and a Redis server on the same machine (loopback);
    a network between the hosts adds its round trips.

.PARAMETER ModulePath
    The staged module folder (output/PSSharedMemory/<version>); built with build.ps1 -Task Build.

.PARAMETER Rounds
    Rounds per figure (default 5).

.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Build; dotnet pwsh ./bench/Compare-Stores.ps1
#>
[CmdletBinding()]
param(
    [string] $ModulePath,
    [int] $Rounds = 5
)

$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot
if (-not $ModulePath) {
    $version = (Import-PowerShellDataFile (Join-Path $root 'PSSharedMemory.psd1')).ModuleVersion
    $ModulePath = Join-Path $root "output/PSSharedMemory/$version"
}
$manifest = Join-Path $ModulePath 'PSSharedMemory.psd1'
Import-Module $manifest -Force
. (Join-Path $root 'tools/PwshPath.ps1')
$pwsh = Get-PwshPath

function Get-Median([double[]] $Values) {
    $sorted = $Values | Sort-Object
    $sorted[[int][math]::Floor($sorted.Count / 2)]
}

function Measure-WriteRead([string] $Store, [int] $Bytes, [int] $Count) {
    $name = "bench-$Bytes-$PID"
    $payload = [byte[]]::new($Bytes); [Random]::new(1).NextBytes($payload)
    Write-SharedMemory -Store $Store -Name $name -Value $payload
    $null = Read-SharedMemory -Store $Store -Name $name
    $results = foreach ($round in 1..$Rounds) {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        for ($i = 0; $i -lt $Count; $i++) {
            Write-SharedMemory -Store $Store -Name $name -Value $payload
            $null = Read-SharedMemory -Store $Store -Name $name
        }
        $watch.Elapsed.TotalMilliseconds * 1000 / $Count
    }
    Remove-SharedMemory -Store $Store -Name $name
    Get-Median $results
}

function Measure-Wake([string] $Store, [int] $Count) {
    $ping = "bench-ping-$PID"; $pong = "bench-pong-$PID"
    Write-SharedMemory -Store $Store -Name $ping -Value 0
    Write-SharedMemory -Store $Store -Name $pong -Value 0
    $total = $Count * ($Rounds + 1)
    # The child reads ping once, then says it is ready (pong -1): from then on each of its waits waits past
    # what it has read, so no write of ping is missed, whenever it lands.
    $script = "Import-Module '$manifest'; `$null = Read-SharedMemory -Store '$Store' -Name $ping; Write-SharedMemory -Store '$Store' -Name $pong -Value -1; `$n = 0; while (`$n -lt $total) { `$n = [int](Read-SharedMemory -Store '$Store' -Name $ping -Wait); Write-SharedMemory -Store '$Store' -Name $pong -Value `$n }"
    $child = Start-Process -FilePath $pwsh -ArgumentList '-NoProfile', '-NonInteractive', '-Command', $script -PassThru
    try {
        while ([int](Read-SharedMemory -Store $Store -Name $pong -Wait -Timeout 60) -ne -1) { }
        $n = 0
        $results = foreach ($round in 0..$Rounds) {
            $watch = [Diagnostics.Stopwatch]::StartNew()
            for ($i = 0; $i -lt $Count; $i++) {
                $n++
                Write-SharedMemory -Store $Store -Name $ping -Value $n
                while ([int](Read-SharedMemory -Store $Store -Name $pong -Wait -Timeout 30) -ne $n) { }
            }
            # Round 0 warms up both processes.
            if ($round -gt 0) { $watch.Elapsed.TotalMilliseconds * 1000 / $Count / 2 }
        }
    }
    finally {
        if (-not $child.WaitForExit(30000)) { $child.Kill() }
        Remove-SharedMemory -Store $Store -Name $ping, $pong
    }
    Get-Median $results
}

$server = & (Join-Path $root 'tools/Start-RedisServer.ps1')
try {
    $stores = [ordered]@{ Local = 'Local'; Redis = $server.Uri }
    $rows = foreach ($case in @(
            @{ Name = 'Write+Read 100 B (us)'; Run = { param($s) Measure-WriteRead $s 100 500 } },
            @{ Name = 'Write+Read 1 MiB (us)'; Run = { param($s) Measure-WriteRead $s 1MB 20 } },
            @{ Name = 'Wake-up, one way (us)'; Run = { param($s) Measure-Wake $s 100 } })) {
        $local = & $case.Run $stores.Local
        $redis = & $case.Run $stores.Redis
        [pscustomobject]@{
            Measure      = $case.Name
            Local        = [math]::Round($local, 1)
            Redis        = [math]::Round($redis, 1)
            'Redis/Local' = [math]::Round($redis / $local, 2)
        }
    }
    $rows | Format-Table -AutoSize | Out-String -Width 200
    $rows
}
finally {
    $server.Stop()
}
