<#
.SYNOPSIS
    Runs the Pester tests against the staged module in this (fresh) pwsh process and writes a summary.
    Called by build.ps1 -Task Test; not meant to be run on its own.
#>
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $TestsPath,
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $ResultPath,
    [Parameter(Mandatory)] [string] $SummaryPath
)

$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -Force

# tests/common.ps1 imports the module from here, and starts child processes with the same pwsh.
$env:PSSHAREDMEMORY_TEST_MODULE = $ModulePath

$config = New-PesterConfiguration
$config.Run.Path = $TestsPath
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = $ResultPath

try {
    $result = Invoke-Pester -Configuration $config
    if ($null -eq $result) { throw 'Invoke-Pester returned no result.' }
    $passed = [int]$result.PassedCount
    $failed = [int]$result.FailedCount + [int]$result.FailedBlocksCount + [int]$result.FailedContainersCount
    $skipped = [int]$result.SkippedCount
}
catch {
    # Pester itself failed (no tests found, a broken file): that is a failure, never a silent pass.
    Write-Host "Pester could not run: $_" -ForegroundColor Red
    $passed = 0
    $failed = 1
    $skipped = 0
}
[pscustomobject]@{ Passed = $passed; Failed = $failed; Skipped = $skipped } |
    ConvertTo-Json | Set-Content -LiteralPath $SummaryPath -Encoding utf8
exit ([int]($failed -gt 0))
