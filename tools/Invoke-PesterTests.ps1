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
    [Parameter(Mandatory)] [string] $SummaryPath,
    # No NUnit XML: Pester's report asks WMI for the OS (Get-CimInstance Win32_OperatingSystem), which never
    # answers under Wine 8, so the Windows lane (build.ps1 -Task TestWindows) goes without it.
    [switch] $NoResultFile
)

$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -Force

# tests/common.ps1 imports the module from here, and starts child processes with the same pwsh.
$env:PSSHAREDMEMORY_TEST_MODULE = $ModulePath

$config = New-PesterConfiguration
$config.Run.Path = $TestsPath
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = -not $NoResultFile
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = $ResultPath

try {
    $result = Invoke-Pester -Configuration $config
    if ($null -eq $result) { throw 'Invoke-Pester returned no result.' }
    $passed = [int]$result.PassedCount
    $failed = [int]$result.FailedCount + [int]$result.FailedBlocksCount + [int]$result.FailedContainersCount
    $skipped = [int]$result.SkippedCount
    # Reasons come from Set-ItResult -Skipped -Because; a plain -Skip condition gives none.
    $skippedTests = @($result.Skipped | ForEach-Object {
            $reason = @($_.ErrorRecord | ForEach-Object { $_.Exception.Message }) -join ' '
            [pscustomobject]@{ Test = $_.ExpandedPath; Reason = if ($reason) { $reason } else { 'its -Skip condition in the test file' } }
        })
}
catch {
    # Pester itself failed (no tests found, a broken file): that is a failure, never a silent pass.
    Write-Host "Pester could not run: $_" -ForegroundColor Red
    $passed = 0
    $failed = 1
    $skipped = 0
    $skippedTests = @()
}
[pscustomobject]@{ Passed = $passed; Failed = $failed; Skipped = $skipped; SkippedTests = $skippedTests } |
    ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $SummaryPath -Encoding utf8
exit ([int]($failed -gt 0))
