#Requires -Version 7.2
<#
.SYNOPSIS
    Runs the PSSharedMemory benchmarks: the engine (BenchmarkDotNet and the cross-process ping-pong),
    then the cmdlets against their floors and the other ways of handing data over (Compare-Alternatives.ps1).

.DESCRIPTION
    Every goal is a ratio of medians from this one run: the measure against its floor or baseline, both
    measured in the same run (see bench/README.md for each). On a shared machine absolute times move from
    run to run, ratios much less. The engine goals compare this run's ratios with those of the last full
    report, bench/results/2026-11-26.md.
    Writes bench/results/<yyyy-MM-dd>.md (<yyyy-MM-dd>-quick.md with -Quick): the goals and their status
    first, then the machine, the PowerShell tables and the engine tables.

.PARAMETER ModulePath
    The staged module directory (output/PSSharedMemory/<version>), as build.ps1 -Task Bench passes it.

.PARAMETER PwshPath
    The pwsh executable that runs Compare-Alternatives.ps1 and its second processes.

.PARAMETER Configuration
    Release (default) or Debug for the engine benchmarks. Debug figures are not meaningful.

.PARAMETER Quick
    Short runs everywhere: under three minutes on two cores (the full run: under twelve).

.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Bench -Quick
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $ModulePath,

    [string] $PwshPath = '',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    [switch] $Quick
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$started = [Diagnostics.Stopwatch]::StartNew()
$benchRoot = $PSScriptRoot
$project = Join-Path $benchRoot 'PSSharedMemory.Benchmarks'
$artifacts = Join-Path $benchRoot 'BenchmarkDotNet.Artifacts'
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).Path
. (Join-Path $PSScriptRoot '../tools/PwshPath.ps1')
if (-not $PwshPath) { $PwshPath = Get-PwshPath }

function Write-Step([string] $Message) {
    Write-Host "==> $Message" -ForegroundColor Cyan
}

# Old reports would be mistaken for this run's.
$engineResults = Join-Path $artifacts 'results'
if (Test-Path -LiteralPath $engineResults) { Remove-Item -LiteralPath $engineResults -Recurse -Force }
$null = New-Item -ItemType Directory -Path $engineResults -Force

Write-Step "Building the engine benchmarks ($Configuration)"
& dotnet build $project -c $Configuration --nologo -v quiet
if ($LASTEXITCODE -ne 0) { throw "Building $project failed." }

$benchArgs = @('--artifacts', $artifacts)
if ($Quick) { $benchArgs += '--quick' }
if ($Configuration -eq 'Debug') {
    Write-Warning 'Debug build: the engine is not optimized, so its figures say little.'
    $benchArgs += '--allow-debug'
}

Write-Step "Engine benchmarks (BenchmarkDotNet$(if ($Quick) { ', quick job' }))"
& dotnet run -c $Configuration --no-build --project $project -- @benchArgs
if ($LASTEXITCODE -ne 0) { throw "The engine benchmarks failed (exit code $LASTEXITCODE)." }

Write-Step 'Engine cross-process change notification (ping-pong between two processes)'
$pingPongJson = Join-Path $engineResults 'pingpong.json'
$rounds = if ($Quick) { 1000 } else { 5000 }
$idle = if ($Quick) { 300 } else { 1000 }
$pingPongOutput = & dotnet run -c $Configuration --no-build --project $project -- pingpong --rounds $rounds --warmup 200 --idle $idle --output $pingPongJson
if ($LASTEXITCODE -ne 0) { throw "The ping-pong benchmark failed (exit code $LASTEXITCODE)." }
$pingPongOutput | Write-Host
Set-Content -LiteralPath (Join-Path $engineResults 'pingpong.md') -Value ($pingPongOutput | Where-Object { $_ })

Write-Step 'Engine operations against their floors (interleaved rounds in one process)'
$pairedJson = Join-Path $engineResults 'paired.json'
$pairedArgs = if ($Quick) { @('--rounds', '31', '--batch', '2000', '--warmup', '1') } else { @('--rounds', '101', '--batch', '5000', '--warmup', '5') }
$pairedOutput = & dotnet run -c $Configuration --no-build --project $project -- paired @pairedArgs --output $pairedJson
if ($LASTEXITCODE -ne 0) { throw "The paired engine benchmark failed (exit code $LASTEXITCODE)." }
$pairedOutput | Write-Host
Set-Content -LiteralPath (Join-Path $engineResults 'paired.md') -Value $pairedOutput

Write-Step 'PowerShell comparison (fresh pwsh)'
& $PwshPath -NoProfile -NonInteractive -File (Join-Path $benchRoot 'Compare-Alternatives.ps1') `
    -ModulePath $ModulePath -PwshPath $PwshPath -Quick:$Quick -EngineResultsPath $engineResults
if ($LASTEXITCODE -ne 0) { throw "Compare-Alternatives.ps1 failed (exit code $LASTEXITCODE)." }

$started.Stop()
Write-Host ("Benchmarks finished in {0:mm\:ss} (wall time{1})." -f $started.Elapsed, $(if ($Quick) { ', -Quick' } else { '' }))
