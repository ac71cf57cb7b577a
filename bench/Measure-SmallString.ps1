<#
.SYNOPSIS
    The 100-byte goal on its own: Write-SharedMemory + Read-SharedMemory by name against two Write-Output
    calls, in a process that runs nothing else, after a long warm-up.

.DESCRIPTION
    A cross-check of the 100-byte rows of Compare-Alternatives.ps1, whose process runs many other methods
    between the samples. Each of the optional extra methods (-With) can be added to see what sharing the
    process with it does to the two medians. Prints the medians and their ratio.

.EXAMPLE
    dotnet pwsh bench/Measure-SmallString.ps1 -ModulePath output/PSSharedMemory/0.2.0
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $ModulePath,

    [double] $WarmupSeconds = 10,

    [int] $Samples = 25,

    [int] $Inner = 200,

    [ValidateSet('Get-Variable', 'Set-Content', 'Json', 'SegmentObject', 'Clixml', 'Breakdown')]
    [string[]] $With = @()
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module (Join-Path (Resolve-Path -LiteralPath $ModulePath).Path 'PSSharedMemory.psd1')

$shuffle = [Random]::new(20261127)
$text100 = ('The quick brown fox jumps over the lazy dog; ' * 3).Substring(0, 100)
$name = "bench-small-$PID"
$segment = New-SharedMemory -Name $name -Size 4KB
$file = Join-Path ([IO.Path]::GetTempPath()) "$name.txt"
Write-SharedMemory -Name $name -Value $text100
try {
    $methods = [ordered]@{
        'two Write-Output calls' = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = Write-Output -InputObject $text100; $null = Write-Output -InputObject $text100 } }
        'Write + Read by name'   = { param($n) for ($i = 0; $i -lt $n; $i++) { Write-SharedMemory -Name $name -Value $text100; $null = Read-SharedMemory -Name $name } }
    }
    switch ($With) {
        'Get-Variable' { $methods[$_] = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = Get-Variable -Name PID -ValueOnly; $null = Get-Variable -Name PID -ValueOnly } } }
        'Set-Content' { $methods[$_] = { param($n) for ($i = 0; $i -lt $n; $i++) { Set-Content -LiteralPath $file -Value $text100 -NoNewline; $null = Get-Content -LiteralPath $file -Raw } } }
        'Json' { $methods[$_] = { param($n) for ($i = 0; $i -lt $n; $i++) { ConvertTo-Json -InputObject $text100 | Set-Content -LiteralPath $file; $null = Get-Content -LiteralPath $file -Raw | ConvertFrom-Json } } }
        'SegmentObject' { $methods[$_] = { param($n) for ($i = 0; $i -lt $n; $i++) { $segment | Write-SharedMemory -Value $text100; $null = Read-SharedMemory -InputObject $segment } } }
        'Clixml' { $methods[$_] = { param($n) for ($i = 0; $i -lt $n; $i++) { Export-Clixml -LiteralPath $file -InputObject $text100; $null = Import-Clixml -LiteralPath $file } } }
        'Breakdown' {
            $methods['Write alone'] = { param($n) for ($i = 0; $i -lt $n; $i++) { Write-SharedMemory -Name $name -Value $text100 } }
            $methods['Read alone'] = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = Read-SharedMemory -Name $name } }
        }
    }

    $names = @($methods.Keys)
    $warming = [Diagnostics.Stopwatch]::StartNew()
    while ($warming.Elapsed.TotalSeconds -lt $WarmupSeconds) { foreach ($method in $names) { & $methods[$method] $Inner } }
    $times = @{}
    foreach ($method in $names) { $times[$method] = [double[]]::new($Samples) }
    for ($s = 0; $s -lt $Samples; $s++) {
        foreach ($method in ($names | Sort-Object { $shuffle.Next() })) {
            [GC]::Collect()
            [GC]::WaitForPendingFinalizers()
            $t0 = [Diagnostics.Stopwatch]::GetTimestamp()
            & $methods[$method] $Inner
            $times[$method][$s] = ([Diagnostics.Stopwatch]::GetTimestamp() - $t0) * 1e6 / [Diagnostics.Stopwatch]::Frequency / $Inner
        }
    }
    $median = @{}
    foreach ($method in $names) { $median[$method] = ($times[$method] | Sort-Object)[[int][Math]::Floor($Samples / 2)] }
    foreach ($method in $names) { '{0,-24} median {1,7:N1} µs' -f $method, $median[$method] }
    'Ratio: {0:N2}× two Write-Output calls (with: {1})' -f ($median['Write + Read by name'] / $median['two Write-Output calls']), $(if ($With) { $With -join ', ' } else { 'nothing else' })
}
finally {
    Remove-SharedMemory -Name $name -Confirm:$false
    Remove-Item -LiteralPath $file -ErrorAction SilentlyContinue
}
