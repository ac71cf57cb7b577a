<#
.SYNOPSIS
    The Windows lane: runs the engine tests and the Pester suite against the module's Windows backend under
    Wine. Called by build.ps1 -Task TestWindows after the module is built and staged; not meant to be run on
    its own.

.DESCRIPTION
    Publishes, self-contained for win-x64, the engine tests (an xunit.v3 program) with their helper program,
    and tools/WinPwsh, a small PowerShell host that stands in for pwsh.exe. Both run under Wine in a fresh
    WINEPREFIX, so every process they start (the helper, child pwsh processes, Start-Job) is a real Wine
    process on the same wineserver, and the module takes its Windows backend ($IsWindows is true).

    Ends with "Tests: N passed, N failed" and exits 1 on any failure, on a runner that failed without
    reporting a failed test, and when more than 10% of the tests were skipped.
#>
param(
    [Parameter(Mandatory)] [string] $Root,
    [Parameter(Mandatory)] [string] $Configuration,
    [Parameter(Mandatory)] [string] $Staged,
    [Parameter(Mandatory)] [string] $PesterPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Out = Join-Path $Root 'output/windows'
$Results = Join-Path $Out 'TestResults'
$WinePackage = 'wine64'
$MaxSkippedShare = 0.10

function Write-Step([string] $Message) {
    Write-Host "==> $Message" -ForegroundColor Cyan
}

function Find-Wine {
    # Debian's wine64 puts the loader in /usr/lib/wine, off PATH.
    foreach ($candidate in '/usr/lib/wine/wine64', '/usr/lib64/wine/wine64') {
        if (Test-Path -LiteralPath $candidate) { return $candidate }
    }
    $onPath = Get-Command wine64 -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($onPath) { return $onPath.Source }
    return $null
}

function Install-Wine {
    $debian = (Test-Path -LiteralPath '/etc/debian_version') -and (Get-Command apt-get -CommandType Application -ErrorAction SilentlyContinue)
    $root = (& id -u) -eq '0'
    if (-not $IsLinux -or -not $debian -or -not $root) {
        throw "Wine is not installed, and this task installs it only on Debian or Ubuntu as root. Install the package '$WinePackage' (Debian/Ubuntu: apt-get install $WinePackage), then run the task again."
    }
    Write-Step "Installing $WinePackage with apt-get"
    $saved = $env:DEBIAN_FRONTEND
    $env:DEBIAN_FRONTEND = 'noninteractive'
    try {
        & bash -c "apt-get update -q < /dev/null && apt-get install -y -q $WinePackage < /dev/null"
        if ($LASTEXITCODE -ne 0) { throw "apt-get could not install $WinePackage (exit $LASTEXITCODE)." }
    }
    finally { $env:DEBIAN_FRONTEND = $saved }
}

function ConvertTo-WinePath([string] $Path) {
    # Wine maps the Unix root to drive Z:.
    'Z:' + ([IO.Path]::GetFullPath($Path) -replace '/', '\')
}

function Invoke-Publish([string] $Project, [string] $Destination) {
    if (Test-Path -LiteralPath $Destination) { Remove-Item -LiteralPath $Destination -Recurse -Force }
    & dotnet publish (Join-Path $Root $Project) -c $Configuration -r win-x64 --self-contained -o $Destination --nologo -v quiet
    if ($LASTEXITCODE -ne 0) { throw "Publishing $Project for win-x64 failed." }
}

function Invoke-Watched {
    <#
        Runs a Windows program under Wine, echoing its output, and stops it when it hangs: when no line has come
        for IdleSeconds, or for FinishedIdleSeconds after a line that matches FinishedPattern (a test is done and
        the runner should move on at once). Returns the exit code (-1 when stopped) and the output lines.
    #>
    param(
        [string] $Wine, [string[]] $ArgumentList, [string] $WorkingDirectory,
        [int] $IdleSeconds = 900, [string] $FinishedPattern = $null, [string] $FailedPattern = $null, [int] $FinishedIdleSeconds = 120,
        [int] $TotalSeconds = 2400
    )
    $info = [Diagnostics.ProcessStartInfo]::new($Wine)
    foreach ($argument in $ArgumentList) { $info.ArgumentList.Add($argument) }
    $info.WorkingDirectory = $WorkingDirectory
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.RedirectStandardInput = $true
    $info.UseShellExecute = $false
    $info.StandardOutputEncoding = [Text.UTF8Encoding]::new($false)
    $info.StandardErrorEncoding = [Text.UTF8Encoding]::new($false)
    $process = [Diagnostics.Process]::Start($info)
    $process.StandardInput.Close()
    # One pending ReadLineAsync per stream, polled from this thread (script blocks cannot run on pool threads).
    $streams = @($process.StandardOutput, $process.StandardError)
    $pending = @($streams[0].ReadLineAsync(), $streams[1].ReadLineAsync())
    $open = @($true, $true)
    $all = [Collections.Generic.List[string]]::new()
    $started = [Diagnostics.Stopwatch]::StartNew()
    $idle = [Diagnostics.Stopwatch]::StartNew()
    $limit = $IdleSeconds
    $stopped = $null
    $sawFailure = $false
    while ($open[0] -or $open[1]) {
        $got = $false
        for ($s = 0; $s -lt 2; $s++) {
            if (-not $open[$s] -or -not $pending[$s].IsCompleted) { continue }
            $line = $pending[$s].GetAwaiter().GetResult()
            if ($null -eq $line) { $open[$s] = $false; continue }
            $pending[$s] = $streams[$s].ReadLineAsync()
            $got = $true
            # Wine's note about the Unix root's volume label is noise.
            if ($line -notmatch 'FS volume label and serial are not available') { Write-Host $line }
            $all.Add($line)
            $idle.Restart()
            if ($FailedPattern -and $line -match $FailedPattern) { $sawFailure = $true }
            $limit = if ($sawFailure -or ($FinishedPattern -and $line -match $FinishedPattern)) { $FinishedIdleSeconds } else { $IdleSeconds }
        }
        if ($got) { continue }
        # Processes the program started (wineserver) may hold the pipes open after it exits.
        if ($process.HasExited -and $idle.Elapsed.TotalSeconds -gt 5) { break }
        if ($idle.Elapsed.TotalSeconds -gt $limit) { $stopped = "no output for $limit seconds"; break }
        if ($started.Elapsed.TotalSeconds -gt $TotalSeconds) { $stopped = "still running after $TotalSeconds seconds"; break }
        Start-Sleep -Milliseconds 100
    }
    $exitCode = -1
    if ($stopped) {
        Write-Host "Stopped the run: $stopped." -ForegroundColor Red
        try { $process.Kill($true) } catch { Write-Verbose "kill: $_" }
    }
    else {
        $process.WaitForExit()
        $exitCode = $process.ExitCode
    }
    [pscustomobject]@{ ExitCode = $exitCode; Lines = $all.ToArray(); Stopped = $stopped; Seconds = [int]$started.Elapsed.TotalSeconds }
}

# --- Wine --------------------------------------------------------------------------------------------------
$wine = Find-Wine
if (-not $wine) {
    Install-Wine
    $wine = Find-Wine
    if (-not $wine) { throw "The package '$WinePackage' was installed, but no wine64 loader was found in /usr/lib/wine or on PATH." }
}
$wineserver = Join-Path (Split-Path $wine) 'wineserver'
$wineVersion = (& $wine --version) -join ''
Write-Step "Using $wine ($wineVersion)"

# --- Publish -----------------------------------------------------------------------------------------------
Write-Step 'Publishing the engine tests and their helper (self-contained, win-x64)'
$engineTests = Join-Path $Out 'engine-tests'
Invoke-Publish 'tests/PSSharedMemory.Engine.Tests/PSSharedMemory.Engine.Tests.csproj' $engineTests
Write-Step 'Publishing the Windows PowerShell host tools/WinPwsh (self-contained, win-x64)'
$pwshDir = Join-Path $Out 'pwsh'
Invoke-Publish 'tools/WinPwsh/WinPwsh.csproj' $pwshDir

if (Test-Path -LiteralPath $Results) { Remove-Item -LiteralPath $Results -Recurse -Force }
$null = New-Item -ItemType Directory -Path $Results -Force

# --- A fresh Wine prefix -----------------------------------------------------------------------------------
$prefix = Join-Path ([IO.Path]::GetTempPath()) ('pssm-wine-' + [guid]::NewGuid().ToString('N').Substring(0, 12))
$null = New-Item -ItemType Directory -Path $prefix
$savedEnvironment = @{}
$laneEnvironment = @{
    WINEPREFIX                   = $prefix
    WINEDEBUG                    = '-all'
    # .NET 10 under Wine 8 can otherwise stop with "Internal CLR error 0x80131506" when script blocks are collected.
    DOTNET_EnableWriteXorExecute = '0'
    DOTNET_CLI_TELEMETRY_OPTOUT  = '1'
    # The Pester run starts child pwsh processes from this PowerShell's own folder; nothing here may point back to Linux.
    PSSHAREDMEMORY_STORE         = $null
    PSModulePath                 = $null
}
foreach ($name in $laneEnvironment.Keys) {
    $savedEnvironment[$name] = [Environment]::GetEnvironmentVariable($name)
    [Environment]::SetEnvironmentVariable($name, $laneEnvironment[$name])
}

$engine = $null
$pester = $null
try {
    Write-Step "Creating the Wine prefix $prefix"
    $boot = Invoke-Watched -Wine $wine -WorkingDirectory $prefix -ArgumentList @('wineboot', '--init') -IdleSeconds 300
    Write-Host "wineboot took $($boot.Seconds) s"

    # --- Engine tests ------------------------------------------------------------------------------------------
    Write-Step 'Running the engine tests (xunit.v3) under Wine'
    $exe = Join-Path $engineTests 'PSSharedMemory.Engine.Tests.exe'
    $listed = @(& $wine $exe -list 'tests/json' -noColor 2>$null | Where-Object { $_ -match '^\s*\[' } | ConvertFrom-Json)
    $engineTotal = $listed.Count
    $trx = Join-Path $Results 'engine-windows.trx'
    # A test failure is reported, then Wine 8 hangs the xunit.v3 runner (an exception that leaves a test method
    # through reflection stops the thread pool). The watchdog stops such a run; the tests it never reached count
    # as failed, never as passed.
    $run = Invoke-Watched -Wine $wine -WorkingDirectory $engineTests -ArgumentList @($exe, '-noColor', '-reporter', 'verbose', '-result-trx', (ConvertTo-WinePath $trx)) `
        -FinishedPattern '\[FINISHED\]' -FailedPattern '\[FAIL\]$' -FinishedIdleSeconds 60 -IdleSeconds 300
    $finished = @($run.Lines -match '\[FINISHED\]').Count
    $failedNames = @($run.Lines -match '\[FAIL\]$' | ForEach-Object { ($_ -replace '\s*\[FAIL\]$', '').Trim() })
    $skipped = [Collections.Generic.List[object]]::new()
    for ($i = 0; $i -lt $run.Lines.Count; $i++) {
        if ($run.Lines[$i] -match '^\s*(\S.*?)\s*\[SKIP\]$') {
            $reason = if ($i + 1 -lt $run.Lines.Count) { $run.Lines[$i + 1].Trim() } else { '' }
            $skipped.Add([pscustomobject]@{ Suite = 'xunit'; Test = $Matches[1]; Reason = $reason })
        }
    }
    # The list names test methods (a theory once); a stopped run counts each method it never reached as one failure.
    $finishedMethods = @($run.Lines -match '\[FINISHED\]' | ForEach-Object { ($_ -replace '\s*\[FINISHED\].*$', '' -replace '\(.*$', '').Trim() } | Sort-Object -Unique)
    $notRun = @($listed | Where-Object { $finishedMethods -notcontains $_ }).Count
    if (-not $run.Stopped -and $run.ExitCode -eq 0) { $notRun = 0 }
    $engine = [pscustomobject]@{
        Total   = $engineTotal
        Passed  = $finished - $failedNames.Count - $skipped.Count
        Failed  = $failedNames.Count + $notRun
        Skipped = $skipped.Count
        NotRun  = $notRun
        Exit    = $run.ExitCode
        Seconds = $run.Seconds
    }
    if ($notRun -gt 0) {
        Write-Host "$notRun engine test methods did not run: the runner stopped (each counted as one failure)." -ForegroundColor Red
    }
    foreach ($name in $failedNames) { Write-Host "xunit failed: $name" -ForegroundColor Red }

    # --- Pester ------------------------------------------------------------------------------------------------
    Write-Step 'Running the module tests (Pester) in the Windows PowerShell host under Wine'
    $summaryPath = Join-Path $Results 'pester-summary.json'
    $run = Invoke-Watched -Wine $wine -WorkingDirectory $pwshDir -ArgumentList @(
        (Join-Path $pwshDir 'pwsh.exe'), '-NoProfile', '-NonInteractive', '-File', (ConvertTo-WinePath (Join-Path $Root 'tools/Invoke-PesterTests.ps1')),
        '-PesterPath', (ConvertTo-WinePath $PesterPath), '-TestsPath', (ConvertTo-WinePath (Join-Path $Root 'tests')),
        '-ModulePath', (ConvertTo-WinePath $Staged), '-ResultPath', (ConvertTo-WinePath (Join-Path $Results 'pester.xml')),
        '-SummaryPath', (ConvertTo-WinePath $summaryPath), '-NoResultFile') -IdleSeconds 600
    $counts = if (Test-Path -LiteralPath $summaryPath) { Get-Content -LiteralPath $summaryPath -Raw | ConvertFrom-Json } else { $null }
    $pester = [pscustomobject]@{
        Passed  = if ($counts) { [int]$counts.Passed } else { 0 }
        Failed  = if ($counts) { [int]$counts.Failed } else { 1 }
        Skipped = if ($counts) { [int]$counts.Skipped } else { 0 }
        Exit    = $run.ExitCode
        Seconds = $run.Seconds
    }
    if ($counts -and $counts.PSObject.Properties['SkippedTests']) {
        foreach ($test in $counts.SkippedTests) { $skipped.Add([pscustomobject]@{ Suite = 'Pester'; Test = $test.Test; Reason = $test.Reason }) }
    }
}
finally {
    & $wineserver -k 2>$null
    foreach ($name in $savedEnvironment.Keys) { [Environment]::SetEnvironmentVariable($name, $savedEnvironment[$name]) }
    Remove-Item -LiteralPath $prefix -Recurse -Force -ErrorAction SilentlyContinue
}

# --- Summary -----------------------------------------------------------------------------------------------
$passed = $engine.Passed + $pester.Passed
$failed = $engine.Failed + $pester.Failed
if ($failed -eq 0 -and ($engine.Exit -ne 0 -or $pester.Exit -ne 0)) {
    # A runner failed without reporting a failed test (a crash, a hang): count it.
    Write-Host "A runner failed without reporting a failed test (engine exit $($engine.Exit), Pester exit $($pester.Exit))." -ForegroundColor Red
    $failed = 1
}
$total = $passed + $failed + $engine.Skipped + $pester.Skipped
$skippedCount = $engine.Skipped + $pester.Skipped

# A test of Unix-only behaviour (store modes, symbolic links, tmpfs, setpriv, /proc) has nothing to test on
# Windows: its reason starts with "Unix only". It is listed apart and left out of the budget, which is
# about tests of the Windows backend that Wine cannot run.
# (Pester words its reasons "is skipped, because <reason>".)
$unixOnly = @($skipped | Where-Object { $_.Reason -like '*Unix only*' })
$wineSkips = @($skipped | Where-Object { $_.Reason -notlike '*Unix only*' })
$applicable = $total - $unixOnly.Count
$share = if ($applicable -gt 0) { $wineSkips.Count / $applicable } else { 0 }
Write-Host ''
Write-Host "Not applicable to the Windows backend ($($unixOnly.Count) tests of Unix-only behaviour):"
foreach ($test in $unixOnly) { Write-Host "  [$($test.Suite)] $($test.Test): $($test.Reason)" }
Write-Host "Skipped under Wine ($($wineSkips.Count) of the $applicable tests that apply, $('{0:P1}' -f $share); the budget is $('{0:P0}' -f $MaxSkippedShare)):"
foreach ($test in $wineSkips) { Write-Host "  [$($test.Suite)] $($test.Test): $($test.Reason)" }
if ($share -gt $MaxSkippedShare) {
    Write-Host "More than $('{0:P0}' -f $MaxSkippedShare) of the tests were skipped: that counts as a failure." -ForegroundColor Red
    $failed++
}
Write-Host "Windows backend under Wine ($wineVersion): xunit: $($engine.Passed) passed, $($engine.Failed) failed, $($engine.Skipped) skipped in $($engine.Seconds) s; Pester: $($pester.Passed) passed, $($pester.Failed) failed, $($pester.Skipped) skipped in $($pester.Seconds) s"
Write-Host "Tests: $passed passed, $failed failed"
if ($failed -gt 0) { exit 1 }

# The last native command (wineserver -k) leaves its own exit code behind; the result is the count above.
exit 0
