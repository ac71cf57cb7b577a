<#
.SYNOPSIS
    Objects through a segment against Export-Clixml/Import-Clixml through a file: 1000 PSCustomObjects,
    piped and given to -Value, in interleaved rounds; reports medians and ratios measured in this run.

.DESCRIPTION
    Four ways, each timed once per round, in a rotating order so no way always runs first:
      shm piped     $objects | Write-SharedMemory -Name x; $r = Read-SharedMemory -Name x
      clixml piped  $objects | Export-Clixml $file; $r = Import-Clixml $file
      shm -Value    Write-SharedMemory -Name x -Value $objects; $r = Read-SharedMemory -Name x
      clixml -InputObject  Export-Clixml -InputObject $objects -Path $file; $r = Import-Clixml $file
    plus the write and the read of each alone. Before timing it checks that both ways give the same
    objects back (PSSerializer's canonical text of the results compared).

.PARAMETER ModulePath
    The module to measure (default: the staged build of this checkout).

.PARAMETER Rounds
    Interleaved rounds (default 21).

.PARAMETER Count
    Objects per payload (default 1000).
#>
param(
    [string] $ModulePath,
    [int] $Rounds = 21,
    [int] $Count = 1000
)

$ErrorActionPreference = 'Stop'
if (-not $ModulePath) {
    $manifest = Import-PowerShellDataFile -Path (Join-Path $PSScriptRoot '../PSSharedMemory.psd1')
    $ModulePath = Join-Path $PSScriptRoot "../output/PSSharedMemory/$($manifest.ModuleVersion)/PSSharedMemory.psd1"
}
Import-Module $ModulePath -Force

$epoch = [datetime]::new(2025, 1, 1, 0, 0, 0, [DateTimeKind]::Utc)
$objects = foreach ($i in 1..$Count) {
    [pscustomobject]@{ Id = $i; Name = "item-$i"; Value = $i * 1.5; When = $epoch.AddMinutes($i); Enabled = ($i % 2 -eq 0) }
}
$name = 'measure-objects-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
$file = Join-Path ([IO.Path]::GetTempPath()) "$name.xml"

$ways = [ordered]@{
    'shm piped'               = { $objects | Write-SharedMemory -Name $name; $script:r = Read-SharedMemory -Name $name }
    'clixml piped'            = { $objects | Export-Clixml -LiteralPath $file; $script:r = Import-Clixml -LiteralPath $file }
    'shm -Value'              = { Write-SharedMemory -Name $name -Value $objects; $script:r = Read-SharedMemory -Name $name }
    'clixml -InputObject'     = { Export-Clixml -InputObject $objects -LiteralPath $file; $script:r = Import-Clixml -LiteralPath $file }
    'write: shm piped'        = { $objects | Write-SharedMemory -Name $name }
    'write: clixml piped'     = { $objects | Export-Clixml -LiteralPath $file }
    'write: shm -Value'       = { Write-SharedMemory -Name $name -Value $objects }
    'read: Read-SharedMemory' = { $script:r = Read-SharedMemory -Name $name }
    'read: Import-Clixml'     = { $script:r = Import-Clixml -LiteralPath $file }
}

try {
    # Fidelity first: the same objects back, compared as PSSerializer writes them.
    $canonical = { param($items) [System.Management.Automation.PSSerializer]::Serialize(@($items), 5) }
    $objects | Export-Clixml -LiteralPath $file
    $expected = & $canonical (Import-Clixml -LiteralPath $file)
    $objects | Write-SharedMemory -Name $name
    $pipedSame = (& $canonical (Read-SharedMemory -Name $name)) -ceq $expected
    Export-Clixml -InputObject $objects -LiteralPath $file
    $expectedValue = & $canonical (Import-Clixml -LiteralPath $file)
    Write-SharedMemory -Name $name -Value $objects
    $valueSame = (& $canonical (Read-SharedMemory -Name $name)) -ceq $expectedValue

    $times = @{}
    foreach ($key in $ways.Keys) { $times[$key] = [Collections.Generic.List[double]]::new() }
    $keys = @($ways.Keys)
    # Two rounds of warm-up, not counted.
    for ($round = -2; $round -lt $Rounds; $round++) {
        for ($k = 0; $k -lt $keys.Count; $k++) {
            $key = $keys[($k + [math]::Max($round, 0)) % $keys.Count]
            # A read needs something written the same way before it.
            if ($key -eq 'read: Read-SharedMemory') { Write-SharedMemory -Name $name -Value $objects }
            if ($key -eq 'read: Import-Clixml') { $objects | Export-Clixml -LiteralPath $file }
            $watch = [Diagnostics.Stopwatch]::StartNew()
            & $ways[$key]
            $watch.Stop()
            if ($round -ge 0) { $times[$key].Add($watch.Elapsed.TotalMilliseconds) }
        }
    }

    $median = { param($list) $sorted = @($list | Sort-Object); if ($sorted.Count % 2) { $sorted[[int][math]::Floor($sorted.Count / 2)] } else { ($sorted[$sorted.Count / 2 - 1] + $sorted[$sorted.Count / 2]) / 2 } }
    $medians = @{}
    foreach ($key in $keys) { $medians[$key] = & $median $times[$key] }
    $keys | ForEach-Object { [pscustomobject]@{ Way = $_; MedianMs = [math]::Round($medians[$_], 2); MinMs = [math]::Round(($times[$_] | Measure-Object -Minimum).Minimum, 2) } } | Format-Table -AutoSize | Out-String | Write-Host
    Write-Host ("Piped:  {0:N2}x faster than Export-Clixml/Import-Clixml piped (goal 2x); same objects back: {1}" -f ($medians['clixml piped'] / $medians['shm piped']), $pipedSame)
    Write-Host ("-Value: {0:N2}x faster than Export-Clixml -InputObject/Import-Clixml (goal 3x); same objects back: {1}" -f ($medians['clixml -InputObject'] / $medians['shm -Value']), $valueSame)
    Write-Host ("Rounds: $Rounds, objects: $Count, PowerShell $($PSVersionTable.PSVersion), $([Environment]::ProcessorCount) cores")
}
finally {
    Remove-SharedMemory -Name $name -ErrorAction SilentlyContinue -Confirm:$false
    Remove-Item -LiteralPath $file -ErrorAction SilentlyContinue
}
