#Requires -Version 7.2
<#
.SYNOPSIS
    Builds, tests, documents, packages and demonstrates PSSharedMemory.

.DESCRIPTION
    The one entry point for every task. The module version comes from PSSharedMemory.psd1, the only
    place it lives. The built module is staged like a published one under
    output/PSSharedMemory/<version>/, and every test imports it from there.

.PARAMETER Task
    Build    compile and stage the module, with its help (runs Docs)
    Test     Build, then the xunit engine tests and the Pester module tests; ends with "Tests: N passed, N failed"
    TestWindows
             Linux only: Build, then run the engine tests and the Pester suite against the module's Windows
             backend under Wine (installs Debian's wine64 with apt when missing and running as root). The
             engine tests, their helper and a small PowerShell host (tools/WinPwsh) are published
             self-contained for win-x64 to output/windows/. Lists skipped tests with their reasons and ends
             with "Tests: N passed, N failed"
    Docs     turn docs/en-US into MAML help in the staged module
    Package  Build, then publish a .nupkg to output/ through a local PSResourceGet repository, install it from there and import it
    Shell    Build, then open an interactive pwsh with the built module imported
    Demo     Build, then two pwsh processes hand a string, objects and a file to each other through shared memory
    Bench    Build, then run the benchmarks under bench/ (-Quick for a short run)
    Clean    remove output/ and the bin/obj folders

.PARAMETER Configuration
    Debug or Release (default).

.PARAMETER Quick
    With -Task Bench: a shorter run, under three minutes on two cores.

.PARAMETER TestHost
    With -Task Test: the PowerShell that runs the Pester tests. pwsh (default) or WindowsPowerShell
    (powershell.exe 5.1, Windows only). The build itself always runs in pwsh 7.

.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test

.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 -Task TestWindows
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'TestWindows', 'Docs', 'Package', 'Shell', 'Demo', 'Bench', 'Clean')]
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    [switch] $Quick,

    [ValidateSet('pwsh', 'WindowsPowerShell')]
    [string] $TestHost = 'pwsh'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Root = $PSScriptRoot
$Manifest = Import-PowerShellDataFile -Path (Join-Path $Root 'PSSharedMemory.psd1')
$Version = $Manifest.ModuleVersion
$Output = Join-Path $Root 'output'
$ModuleRoot = Join-Path $Output 'PSSharedMemory'
$Staged = Join-Path $ModuleRoot $Version
$TestResults = Join-Path $Output 'TestResults'
$PesterVersion = '5.7.1'

function Write-Step([string] $Message) {
    Write-Host "==> $Message" -ForegroundColor Cyan
}

function Invoke-Native {
    # Runs a native command and stops the build when it fails.
    param([string] $FilePath, [string[]] $ArgumentList)
    & $FilePath @ArgumentList
    if ($LASTEXITCODE -ne 0) {
        throw "'$FilePath $($ArgumentList -join ' ')' failed with exit code $LASTEXITCODE."
    }
}

. (Join-Path $PSScriptRoot 'tools/PwshPath.ps1')

function Invoke-Build {
    Write-Step "Building PSSharedMemory $Version ($Configuration)"
    Invoke-Native dotnet @('build', (Join-Path $Root 'src/PSSharedMemory/PSSharedMemory.csproj'), '-c', $Configuration, '--nologo', '-v', 'quiet')

    $bin = Join-Path $Root "src/PSSharedMemory/bin/$Configuration/netstandard2.0"
    if (Test-Path -LiteralPath $Staged) { Remove-Item -LiteralPath $Staged -Recurse -Force }
    $null = New-Item -ItemType Directory -Path $Staged -Force
    Copy-Item -LiteralPath (Join-Path $Root 'PSSharedMemory.psd1') -Destination $Staged
    foreach ($file in 'PSSharedMemory.dll', 'PSSharedMemory.Engine.dll', 'PSSharedMemory.Format.ps1xml', 'PSSharedMemory.Types.ps1xml') {
        Copy-Item -LiteralPath (Join-Path $bin $file) -Destination $Staged
    }
    Invoke-RedisBuild
    Invoke-Docs
    $null = Test-ModuleManifest -Path (Join-Path $Staged 'PSSharedMemory.psd1')
    Write-Host "Staged $Staged"
}

function Invoke-RedisBuild {
    # The Redis store and its client live in a subfolder, out of the module's default load path: the module
    # loads them on the first use of a redis:// store, into an AssemblyLoadContext of their own.
    Write-Step 'Building the Redis store (loaded only on use)'
    foreach ($project in 'PSSharedMemory.Redis', 'PSSharedMemory.Redis.Loader') {
        Invoke-Native dotnet @('build', (Join-Path $Root "src/$project/$project.csproj"), '-c', $Configuration, '--nologo', '-v', 'quiet')
    }

    $redis = Join-Path $Staged 'redis'
    $null = New-Item -ItemType Directory -Path $redis -Force
    Get-ChildItem -LiteralPath (Join-Path $Root "src/PSSharedMemory.Redis/bin/$Configuration/net8.0") -Filter '*.dll' |
        Where-Object Name -NE 'PSSharedMemory.Engine.dll' |
        Copy-Item -Destination $redis
    Copy-Item -LiteralPath (Join-Path $Root "src/PSSharedMemory.Redis.Loader/bin/$Configuration/net8.0/PSSharedMemory.Redis.Loader.dll") -Destination $redis
}

function Invoke-Docs {
    Write-Step 'Building help from docs/en-US'
    $converter = Join-Path $Root 'tools/Build-Help.ps1'
    if (Test-Path -LiteralPath $converter) {
        & $converter -DocsPath (Join-Path $Root 'docs/en-US') -OutputPath (Join-Path $Staged 'en-US')
    }
    else {
        Write-Warning 'tools/Build-Help.ps1 is missing; the module is staged without help.'
    }
}

function Get-PesterModulePath {
    Write-Step "Restoring Pester $PesterVersion from NuGet"
    $toolProject = Join-Path $Root 'tools/PesterTool/PesterTool.csproj'
    Invoke-Native dotnet @('restore', $toolProject, '--nologo', '-v', 'quiet')
    $packages = $env:NUGET_PACKAGES
    if (-not $packages) {
        $line = @(& dotnet nuget locals global-packages --list) -match 'global-packages:' | Select-Object -First 1
        $packages = ($line -replace '^.*global-packages:\s*', '').Trim()
    }
    $pester = Join-Path $packages "pester/$PesterVersion/tools/Pester.psd1"
    if (-not (Test-Path -LiteralPath $pester)) {
        throw "Pester $PesterVersion was restored but '$pester' does not exist."
    }
    return $pester
}

function Get-TrxCounts([string] $Path) {
    [xml] $trx = Get-Content -LiteralPath $Path -Raw
    $counters = $trx.TestRun.ResultSummary.Counters
    [pscustomobject]@{
        Passed = [int]$counters.passed
        Failed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
    }
}

function Invoke-Test {
    Invoke-Build
    if (Test-Path -LiteralPath $TestResults) { Remove-Item -LiteralPath $TestResults -Recurse -Force }
    $null = New-Item -ItemType Directory -Path $TestResults -Force

    Write-Step 'Running the engine tests (xunit)'
    $trx = Join-Path $TestResults 'engine.trx'
    & dotnet test (Join-Path $Root 'tests/PSSharedMemory.Engine.Tests/PSSharedMemory.Engine.Tests.csproj') `
        -c $Configuration --nologo --logger 'trx;LogFileName=engine.trx' --logger 'console;verbosity=normal' --results-directory $TestResults
    $xunitExit = $LASTEXITCODE
    $xunit = if (Test-Path -LiteralPath $trx) { Get-TrxCounts $trx } else { [pscustomobject]@{ Passed = 0; Failed = 1 } }

    $pester = Get-PesterModulePath
    $testHostPath = if ($TestHost -eq 'WindowsPowerShell') { Join-Path $env:SystemRoot 'System32/WindowsPowerShell/v1.0/powershell.exe' } else { Get-PwshPath }
    Write-Step "Running the module tests (Pester, in a fresh $TestHost process)"
    $summaryPath = Join-Path $TestResults 'pester-summary.json'
    & $testHostPath -NoProfile -NonInteractive -File (Join-Path $Root 'tools/Invoke-PesterTests.ps1') `
        -PesterPath $pester -TestsPath (Join-Path $Root 'tests') -ModulePath $Staged `
        -ResultPath (Join-Path $TestResults 'pester.xml') -SummaryPath $summaryPath
    $pesterExit = $LASTEXITCODE
    $pesterCounts = if (Test-Path -LiteralPath $summaryPath) { Get-Content -LiteralPath $summaryPath -Raw | ConvertFrom-Json } else { [pscustomobject]@{ Passed = 0; Failed = 1 } }

    $passed = $xunit.Passed + $pesterCounts.Passed
    $failed = $xunit.Failed + $pesterCounts.Failed
    if ($failed -eq 0 -and ($xunitExit -ne 0 -or $pesterExit -ne 0)) {
        # A runner failed without reporting a failed test (a crash, a broken container): count it.
        $failed = 1
    }
    Write-Host "xunit: $($xunit.Passed) passed, $($xunit.Failed) failed; Pester: $($pesterCounts.Passed) passed, $($pesterCounts.Failed) failed"
    Write-Host "Tests: $passed passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-TestWindows {
    if (-not $IsLinux) { throw 'TestWindows runs the Windows backend under Wine, on Linux. On Windows, run -Task Test.' }
    Invoke-Build
    $pester = Get-PesterModulePath
    & (Join-Path $Root 'tools/Invoke-WindowsTests.ps1') -Root $Root -Configuration $Configuration -Staged $Staged -PesterPath $pester
    if ($LASTEXITCODE -ne 0) { exit 1 }
}

function Invoke-Package {
    Invoke-Build
    Write-Step 'Packaging the module with PSResourceGet'
    $repoPath = Join-Path $Output 'repository'
    $sandbox = Join-Path $Output 'package-check'
    foreach ($path in $repoPath, $sandbox) {
        if (Test-Path -LiteralPath $path) { Remove-Item -LiteralPath $path -Recurse -Force }
        $null = New-Item -ItemType Directory -Path $path -Force
    }
    Get-ChildItem -LiteralPath $Output -Filter 'PSSharedMemory.*.nupkg' | Remove-Item -Force

    # Publish, install and import in a child pwsh whose home is a scratch folder, so the check
    # neither registers a repository nor installs a module for the real user.
    $script = @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name PSSharedMemoryLocal -Uri '$repoPath' -Trusted
Publish-PSResource -Path '$Staged' -Repository PSSharedMemoryLocal
Install-PSResource -Name PSSharedMemory -Version '$Version' -Repository PSSharedMemoryLocal -Scope CurrentUser -TrustRepository
Import-Module PSSharedMemory -RequiredVersion '$Version'
`$module = Get-Module PSSharedMemory
'Installed ' + `$module.Version + ' from the local repository to ' + `$module.ModuleBase
'Cmdlets: ' + ((`$module.ExportedCmdlets.Keys | Sort-Object) -join ', ')
Uninstall-PSResource -Name PSSharedMemory -Version '$Version' -Scope CurrentUser
"@
    $pushed = $false
    $saved = @{ HOME = $env:HOME; XDG_DATA_HOME = $env:XDG_DATA_HOME; XDG_CONFIG_HOME = $env:XDG_CONFIG_HOME; XDG_CACHE_HOME = $env:XDG_CACHE_HOME; LOCALAPPDATA = $env:LOCALAPPDATA; PSModulePath = $env:PSModulePath }
    try {
        if (-not $IsWindows) {
            $env:HOME = $sandbox
            # PSResourceGet installs under $HOME/.local/share; let pwsh look there too.
            $env:XDG_DATA_HOME = $null
            $env:XDG_CONFIG_HOME = $null
            $env:XDG_CACHE_HOME = $null
        }
        else {
            $env:LOCALAPPDATA = $sandbox
        }
        $env:PSModulePath = $null
        # From inside the scratch folder: PSResourceGet's NuGet client writes a NuGet/NuGet.Config to the
        # working directory, which must never be the checkout.
        Push-Location -LiteralPath $sandbox
        $pushed = $true
        & (Get-PwshPath) -NoProfile -NonInteractive -Command $script
        if ($LASTEXITCODE -ne 0) { throw 'Publishing, installing or importing the package failed.' }
    }
    finally {
        if ($pushed) { Pop-Location }
        foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
    }
    $nupkg = Get-ChildItem -LiteralPath $repoPath -Filter '*.nupkg' | Select-Object -First 1
    Copy-Item -LiteralPath $nupkg.FullName -Destination $Output
    Write-Host "Package: $(Join-Path $Output $nupkg.Name)"
}

function Invoke-Shell {
    Invoke-Build
    Write-Step 'Starting pwsh with the built module (type exit to leave)'
    & (Get-PwshPath) -NoExit -NoProfile -Command "Import-Module '$Staged/PSSharedMemory.psd1'; Get-Command -Module PSSharedMemory"
}

function Invoke-Demo {
    Invoke-Build
    & (Join-Path $Root 'tools/Invoke-Demo.ps1') -ModulePath $Staged -PwshPath (Get-PwshPath)
    if (-not $?) { exit 1 }
}

function Invoke-Bench {
    Invoke-Build
    & (Join-Path $Root 'bench/Invoke-Benchmarks.ps1') -ModulePath $Staged -PwshPath (Get-PwshPath) -Configuration $Configuration -Quick:$Quick
}

function Invoke-Clean {
    Write-Step 'Cleaning'
    foreach ($path in @($Output) + @(Get-ChildItem -Path $Root -Include bin, obj -Recurse -Directory -ErrorAction SilentlyContinue | ForEach-Object FullName)) {
        if (Test-Path -LiteralPath $path) { Remove-Item -LiteralPath $path -Recurse -Force }
    }
}

foreach ($name in $Task) {
    switch ($name) {
        'Build' { Invoke-Build }
        'Test' { Invoke-Test }
        'TestWindows' { Invoke-TestWindows }
        'Docs' { Invoke-Docs }
        'Package' { Invoke-Package }
        'Shell' { Invoke-Shell }
        'Demo' { Invoke-Demo }
        'Bench' { Invoke-Bench }
        'Clean' { Invoke-Clean }
    }
}
