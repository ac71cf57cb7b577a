#Requires -Version 7.2
<#
.SYNOPSIS
    Measures every performance goal of PSSharedMemory against its floor in the same run, beside the other
    ways PowerShell hands data from one place to another, and writes the report.

.DESCRIPTION
    In-process cases: every method of a case runs in this process, warmed up, then N samples taken
    round-robin over the methods in a new shuffled order each round, with a full garbage collection (not
    timed) before each sample, except in the object cases (below). A sample times a loop of a few
    operations with [Diagnostics.Stopwatch] and divides. Each row reports the median and the 99th
    percentile of its samples (with few samples, the 99th percentile is the slowest one), and its ratio to
    its baseline's median from the same samples.

    The object cases take no forced collection before a sample, and the 1000 PSCustomObjects' samples are
    of 3 operations: after a full collection the next operation ran about 2x slower for the module and 1.4x for
    Export-Clixml + Import-Clixml, so a sample of one operation after it measured the collection more than
    the method. Without it, a sample pays the collections that fall in it, whichever method's garbage
    brought them about, in a new shuffled order each round.

    Like with like: piped input is compared with piped input (`$objects | Write-SharedMemory` against
    `$objects | Export-Clixml`), a value given by parameter with a value given by parameter
    (`-Value $objects` against `-InputObject $objects`).

    The floors, measured the same way in the same run:
      - two calls of a trivial compiled cmdlet, `$null = Write-Output -InputObject $value`: one named
        parameter bound, one object written, nothing else; the least a write plus a read through any two
        cmdlets can cost (the 100-byte goal);
      - BlockCopy into a buffer, a new byte[] and BlockCopy out of it: the least a write plus a read that
        must return a new array can cost (the 16 MiB goal);
      - between two pwsh processes: a named pipe driven by the same PowerShell statements in the same
        loop, with the same 3 ms pacing ([Threading.Thread]::Sleep): one way for the wake-up goal; for the
        ping-pong goal, a pipe round trip with the same four trivial cmdlet calls a round trip through the
        cmdlets makes (two on each side), beside the bare pipe round trip. Rounds of each kind are
        interleaved in a shuffled order and started with a handshake on a control pipe, never a sleep.
      - cold start: `pwsh -NoProfile -c "Get-Content <file>"`, a new process each run, interleaved with the
        same start that imports the module and reads a segment.

    The goals for the engine (lock, 64-byte round trip, cross-process wake-up) are ratios to the floors
    BenchmarkDotNet and the ping-pong measured in the same run (-EngineResultsPath), compared with the same
    ratios in bench/results/2026-11-26.md: a goal is met when the ratio is at most 10 % above that.

.PARAMETER ModulePath
    The staged module directory (output/PSSharedMemory/<version>).

.PARAMETER PwshPath
    The pwsh that runs the second process and the cold starts; by default the one running this script.

.PARAMETER Quick
    Fewer samples, rounds and starts.

.PARAMETER EngineResultsPath
    The BenchmarkDotNet results directory of the same run (with pingpong.json, pingpong.md, paired.json and paired.md); its tables
    and the engine goals are added to the report.

.PARAMETER ReportPath
    Where to write the Markdown report; bench/results/<yyyy-MM-dd>.md by default (<yyyy-MM-dd>-quick.md
    with -Quick). '' writes none.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $ModulePath,

    [string] $PwshPath = '',

    [switch] $Quick,

    [string] $EngineResultsPath = '',

    [string] $ReportPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$ModulePath = (Resolve-Path -LiteralPath $ModulePath).Path
$manifest = Join-Path $ModulePath 'PSSharedMemory.psd1'
. (Join-Path $PSScriptRoot '../tools/PwshPath.ps1')
if (-not $PwshPath) { $PwshPath = Get-PwshPath }
if (-not $PSBoundParameters.ContainsKey('ReportPath')) {
    # A quick run does not replace the day's full record.
    $ReportPath = Join-Path $PSScriptRoot ("results/{0:yyyy-MM-dd}{1}.md" -f (Get-Date), $(if ($Quick) { '-quick' } else { '' }))
}

Import-Module $manifest -Force
$moduleVersion = (Get-Module PSSharedMemory).Version

$started = [Diagnostics.Stopwatch]::StartNew()
$runId = "{0}-{1}" -f $PID, ([guid]::NewGuid().ToString('N').Substring(0, 6))
$fileRoot = if (Test-Path -LiteralPath '/dev/shm') { '/dev/shm' } else { [IO.Path]::GetTempPath() }
$fileDir = Join-Path $fileRoot "pssm-bench-$runId"
$null = New-Item -ItemType Directory -Path $fileDir -Force
$segments = [Collections.Generic.List[string]]::new()

function New-BenchSegment([string] $Purpose, [long] $Size) {
    $name = "bench-$Purpose-$runId"
    $segment = New-SharedMemory -Name $name -Size $Size
    $segments.Add($name)
    return $segment
}

function Get-Median([double[]] $Values) {
    $sorted = [double[]]($Values | Sort-Object)
    $n = $sorted.Length
    if ($n % 2) { return $sorted[($n - 1) / 2] }
    return ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2
}

function Get-Percentile([double[]] $Values, [double] $P) {
    # Nearest rank.
    $sorted = [double[]]($Values | Sort-Object)
    $index = [math]::Max(0, [math]::Min($sorted.Length - 1, [int][math]::Ceiling($P * $sorted.Length) - 1))
    return $sorted[$index]
}

$tickToMicroseconds = 1e6 / [Diagnostics.Stopwatch]::Frequency

function Format-Time([double] $Microseconds) {
    if ($Microseconds -ge 1e6) { return '{0:N2} s' -f ($Microseconds / 1e6) }
    if ($Microseconds -ge 10000) { return '{0:N1} ms' -f ($Microseconds / 1000) }
    if ($Microseconds -ge 1000) { return '{0:N2} ms' -f ($Microseconds / 1000) }
    return '{0:N1} µs' -f $Microseconds
}

function Format-Ratio([double] $Ratio) {
    if ($Ratio -ge 10) { return '{0:N0}×' -f $Ratio }
    return '{0:N2}×' -f $Ratio
}

# Every measured row, in-process, cross-process and cold start alike.
$results = [Collections.Generic.List[object]]::new()
$shuffle = [Random]::new(12345)

function Add-Row {
    <#
        Records one method's samples (microseconds per operation). Spec keys: Kind ('Goal', 'Floor',
        'Reference', 'Alternative', 'Breakdown'), Note, Baseline (the method it is compared with; by
        default the case's reference), Limit and GoalText (for the rows that carry a goal: the ratio to the
        baseline must be at most Limit).
    #>
    param([string] $Case, [string] $Method, [hashtable] $Spec, [double[]] $Samples, [int] $Inner, [string] $Reference)
    $baseline = if ($Spec.ContainsKey('Baseline')) { $Spec.Baseline } elseif ($Spec.Kind -in 'Floor', 'Reference' -or $Method -eq $Reference) { '' } else { $Reference }
    $row = [pscustomobject]@{
        Case = $Case; Method = $Method; Kind = $Spec.Kind; Note = $Spec['Note']
        Median = (Get-Median $Samples); P99 = (Get-Percentile $Samples 0.99); Samples = $Samples.Length; Inner = $Inner
        Baseline = $baseline; BaselineMedian = $null; Ratio = $null
        Limit = $Spec['Limit']; GoalText = $Spec['GoalText']; Status = ''
    }
    $results.Add($row)
    Write-Host ("    {0,-64} median {1,10}  p99 {2,10}" -f $Method, (Format-Time $row.Median), (Format-Time $row.P99))
}

function Add-DerivedGoal([string] $Case, [string] $From, [string] $Baseline, [double] $Limit, [string] $GoalText) {
    # A second goal for a row already measured: the same samples, against another floor of the same run.
    $source = $results | Where-Object { $_.Case -eq $Case -and $_.Method -eq $From } | Select-Object -First 1
    if (-not $source) { throw "Case '$Case': no row '$From'." }
    $row = $source.PSObject.Copy()
    $row.Method = "$From, against: $($Baseline -replace '^Floor: ', '')"
    $row.Kind = 'Goal'; $row.Baseline = $Baseline; $row.Limit = $Limit; $row.GoalText = $GoalText; $row.Status = ''
    $results.Add($row)
    Complete-Case $Case
}

function Add-HardeningFloor {
    <#
        The floor of a hardened write and read (Linux): two trivial cmdlet calls plus the system calls that
        the module's checks against cut, replaced or untrusted files cost, made from compiled code: an lstat
        of the store and one of the segment's name before the write and again before the read, and the
        write's flock pair. They are the same calls, on the same paths, as the engine makes (seen with
        strace: Write-SharedMemory makes 4 system calls, Read-SharedMemory 2). Adds the floor and a row of
        the system calls alone to the case, and returns the floor's name; $null where it cannot be measured.
    #>
    param([System.Collections.Specialized.OrderedDictionary] $Methods, [string] $SegmentName)
    if (-not $IsLinux) {
        Write-Host '    (the hardened floor is measured on Linux only)' -ForegroundColor DarkGray
        return $null
    }

    $root = if ($env:PSSHAREDMEMORY_STORE) { $env:PSSHAREDMEMORY_STORE } else { '/dev/shm' }
    $store = Join-Path $root ('pssm-' + (& id -u))
    $file = Join-Path $store "$SegmentName.pssm"
    if (-not (Test-Path -LiteralPath $file)) { throw "The hardened floor found no segment file at '$file'." }
    if (-not ('PSSharedMemoryBench.HardeningCalls' -as [type])) {
        Add-Type -TypeDefinition @'
using System;
using System.Runtime.InteropServices;

namespace PSSharedMemoryBench
{
    public static class HardeningCalls
    {
        private const int LockExclusive = 2;
        private const int Unlock = 8;

        [DllImport("libc", EntryPoint = "lstat", SetLastError = true)]
        private static extern int Lstat(string path, byte[] status);

        [DllImport("libc", EntryPoint = "flock", SetLastError = true)]
        private static extern int Flock(SafeHandle fd, int operation);

        // Runs n times the system calls of one write (lstat store, lstat name, flock, unflock) and one read
        // (lstat store, lstat name); throws when one fails, so a floor is never made of failed calls.
        public static void Run(string store, string file, SafeHandle lockFile, int n)
        {
            byte[] status = new byte[512];
            for (int i = 0; i < n; i++)
            {
                Check(Lstat(store, status), "lstat");
                Check(Lstat(file, status), "lstat");
                Check(Flock(lockFile, LockExclusive), "flock");
                Check(Flock(lockFile, Unlock), "flock");
                Check(Lstat(store, status), "lstat");
                Check(Lstat(file, status), "lstat");
            }
        }

        private static void Check(int result, string call)
        {
            if (result != 0)
            {
                throw new InvalidOperationException(call + " failed with errno " + Marshal.GetLastWin32Error());
            }
        }
    }
}
'@
    }

    $lock = [IO.File]::Open((Join-Path $fileDir 'hardening-floor.lock'), 'OpenOrCreate', 'ReadWrite', 'ReadWrite')
    $script:hardeningFloor = @{ Store = $store; File = $file; Lock = $lock.SafeFileHandle; Stream = $lock }
    [PSSharedMemoryBench.HardeningCalls]::Run($store, $file, $lock.SafeFileHandle, 1)
    $floor = 'Floor: Write-Output -InputObject, twice + the 6 system calls of a hardened write and read'
    $Methods[$floor] = @{ Kind = 'Floor'; Note = '4 lstat and a flock pair, from compiled code'
        Body = { param($n)
            for ($i = 0; $i -lt $n; $i++) { $null = Write-Output -InputObject $text100; $null = Write-Output -InputObject $text100 }
            [PSSharedMemoryBench.HardeningCalls]::Run($hardeningFloor.Store, $hardeningFloor.File, $hardeningFloor.Lock, $n)
        }
    }
    $Methods['Breakdown: the 6 system calls alone'] = @{ Kind = 'Breakdown'; Note = '4 lstat and a flock pair, from compiled code'
        Body = { param($n) [PSSharedMemoryBench.HardeningCalls]::Run($hardeningFloor.Store, $hardeningFloor.File, $hardeningFloor.Lock, $n) }
    }
    return $floor
}

function Complete-Case([string] $Case) {
    # Ratios to the baselines, once every row of the case is in.
    foreach ($row in @($results | Where-Object Case -EQ $Case)) {
        if (-not $row.Baseline) { continue }
        $base = $results | Where-Object { $_.Case -eq $Case -and $_.Method -eq $row.Baseline } | Select-Object -First 1
        if (-not $base) { throw "Case '$Case': no baseline row '$($row.Baseline)' for '$($row.Method)'." }
        $row.BaselineMedian = $base.Median
        $row.Ratio = $row.Median / $base.Median
        if ($null -ne $row.Limit) { $row.Status = if ($row.Ratio -le $row.Limit) { 'met' } else { 'NOT met' } }
    }
}

function Invoke-Case {
    <#
        Measures each method of one case and records the rows. Methods: ordered dictionary of
        name -> spec (see Add-Row) with Body = { param($n) ... } that runs the operation $n times.
        Each method is warmed up, then the samples go round-robin over the methods in a new shuffled
        order each round, so that a burst of load from elsewhere on the machine hits them all alike
        instead of one method's whole run. A full garbage collection (not timed) precedes every sample,
        so that no method pays for another's garbage; -NoCollect leaves it out (the object cases: the
        operation after a full collection is slower than in any steady loop, see the description).
    #>
    param([string] $Case, [System.Collections.Specialized.OrderedDictionary] $Methods, [int] $Inner, [int] $Samples, [int] $Warmup = 2, [string] $Reference = 'PSSharedMemory by name', [switch] $NoCollect)
    Write-Host "  $Case" -ForegroundColor Cyan
    $names = @($Methods.Keys)
    $times = @{}
    foreach ($name in $names) {
        $times[$name] = [double[]]::new($Samples)
        for ($w = 0; $w -lt $Warmup; $w++) { & $Methods[$name].Body $Inner }
    }
    # Then round-robin for a while longer: the code under test (PowerShell's and the module's alike) goes
    # from precompiled through profiled to optimized code over the first seconds of a hot loop, and a
    # method measured in the middle of that is measured at a speed no steady loop has.
    $warming = [Diagnostics.Stopwatch]::StartNew()
    while ($warming.Elapsed.TotalSeconds -lt $plan.WarmupSeconds) {
        foreach ($name in $names) { & $Methods[$name].Body $Inner }
    }
    for ($s = 0; $s -lt $Samples; $s++) {
        foreach ($name in ($names | Sort-Object { $shuffle.Next() })) {
            $body = $Methods[$name].Body
            if (-not $NoCollect) {
                [GC]::Collect()
                [GC]::WaitForPendingFinalizers()
            }
            $t0 = [Diagnostics.Stopwatch]::GetTimestamp()
            & $body $Inner
            $times[$name][$s] = ([Diagnostics.Stopwatch]::GetTimestamp() - $t0) * $tickToMicroseconds / $Inner
        }
    }

    foreach ($name in $names) {
        Add-Row -Case $Case -Method $name -Spec $Methods[$name] -Samples $times[$name] -Inner $Inner -Reference $Reference
    }
    if ($NoCollect) { $uncollectedCases.Add($Case) }
    Complete-Case $Case
}

# The cases measured without a forced collection before each sample.
$uncollectedCases = [Collections.Generic.List[string]]::new()

# Sample counts: each sample is Inner operations; the median is over Samples. ExtraSamples: the large
# cases that carry no goal (16 MiB of text, Get-Process objects), whose slow alternatives cost the most time.
# ObjectInner and ObjectSamples: the 1000 PSCustomObjects, sampled without a forced collection.
$plan = if ($Quick) {
    @{ TinyInner = 100; TinySamples = 11; TinyWarmup = 3; MidInner = 10; MidSamples = 9; BigInner = 1; BigSamples = 7; BigWarmup = 1; ObjectInner = 3; ObjectSamples = 11
        ExtraSamples = 5; CrossRounds = 5; CrossCount = 30; ColdRuns = 5; WarmupSeconds = 3; CrossWarmupLimitSeconds = 30 }
}
else {
    @{ TinyInner = 200; TinySamples = 25; TinyWarmup = 5; MidInner = 20; MidSamples = 21; BigInner = 1; BigSamples = 15; BigWarmup = 2; ObjectInner = 3; ObjectSamples = 31
        ExtraSamples = 9; CrossRounds = 20; CrossCount = 50; ColdRuns = 20; WarmupSeconds = 20; CrossWarmupLimitSeconds = 180 }
}
$gapMilliseconds = 3
# The open lock file of the hardened floor (Add-HardeningFloor), closed at the end.
$hardeningFloor = $null

# Fidelity of the objects' round trips, filled in by the objects case.
$fidelity = [Collections.Generic.List[object]]::new()
$crossNotes = [Collections.Generic.List[string]]::new()

Write-Host "PSSharedMemory ${moduleVersion}: the goals and the alternatives$(if ($Quick) { ' (quick)' }); files in $fileDir" -ForegroundColor Cyan
try {
    # ---------------------------------------------------------------- 100-byte string
    $text100 = ('The quick brown fox jumps over the lazy dog; ' * 3).Substring(0, 100)
    $seg100 = New-BenchSegment 'text100' 4KB
    # By name means a string, as a user types it: no property look-up in the timed loop.
    $name100 = $seg100.Name
    $file100 = Join-Path $fileDir 'text100.txt'
    $floor100 = 'Floor: Write-Output -InputObject, twice'
    $methods = [ordered]@{
        $floor100                                = @{ Kind = 'Floor'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = Write-Output -InputObject $text100; $null = Write-Output -InputObject $text100 } } }
        'PSSharedMemory by name'                 = @{ Kind = 'Goal'; Baseline = $floor100; Limit = 1.5; GoalText = '100-byte string by name (Write+Read) ≤ 1.5× two trivial cmdlet calls'
            Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Write-SharedMemory -Name $name100 -Value $text100; $null = Read-SharedMemory -Name $name100 } } }
        'PSSharedMemory segment object'          = @{ Kind = 'Alternative'; Baseline = $floor100; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $seg100 | Write-SharedMemory -Value $text100; $null = Read-SharedMemory -InputObject $seg100 } } }
        'Get-Variable -Name PID -ValueOnly, twice' = @{ Kind = 'Reference'; Note = 'not trivial: matches the name against every scope''s variables'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = Get-Variable -Name PID -ValueOnly; $null = Get-Variable -Name PID -ValueOnly } } }
        'Set-Content / Get-Content -Raw'         = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Set-Content -LiteralPath $file100 -Value $text100 -NoNewline; $null = Get-Content -LiteralPath $file100 -Raw } } }
        '[IO.File]::WriteAllText / ReadAllText'  = @{ Kind = 'Alternative'; Note = 'methods, not cmdlets'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { [IO.File]::WriteAllText($file100, $text100); $null = [IO.File]::ReadAllText($file100) } } }
        'Export-Clixml / Import-Clixml'          = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Export-Clixml -LiteralPath $file100 -InputObject $text100; $null = Import-Clixml -LiteralPath $file100 } } }
        'ConvertTo-Json / ConvertFrom-Json file' = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { ConvertTo-Json -InputObject $text100 | Set-Content -LiteralPath $file100; $null = Get-Content -LiteralPath $file100 -Raw | ConvertFrom-Json } } }
        'Breakdown: Write-SharedMemory -Name alone' = @{ Kind = 'Breakdown'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Write-SharedMemory -Name $name100 -Value $text100 } } }
        'Breakdown: Read-SharedMemory -Name alone'  = @{ Kind = 'Breakdown'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = Read-SharedMemory -Name $name100 } } }
    }
    $hardened100 = Add-HardeningFloor -Methods $methods -SegmentName $name100
    Write-SharedMemory -Name $name100 -Value $text100
    if ((Read-SharedMemory -Name $name100) -cne $text100) { throw 'The 100-byte string did not come back intact.' }
    Invoke-Case -Case '100-byte string' -Methods $methods -Inner $plan.TinyInner -Samples $plan.TinySamples -Warmup $plan.TinyWarmup
    if ($hardened100) {
        Add-DerivedGoal -Case '100-byte string' -From 'PSSharedMemory by name' -Baseline $hardened100 -Limit 1.5 `
            -GoalText '100-byte string by name (Write+Read) ≤ 1.5× (two trivial cmdlet calls + the 6 system calls of the hardened write and read)'
    }

    # ---------------------------------------------------------------- 64 KiB and 16 MiB of text
    $line = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.' + "`n"
    foreach ($size in 64KB, 16MB) {
        $label = if ($size -eq 64KB) { '64 KiB of text' } else { '16 MiB of text' }
        $text = ($line * [math]::Ceiling($size / $line.Length)).Substring(0, $size)
        $segText = New-BenchSegment "text$size" ($size + 4KB)
        $fileText = Join-Path $fileDir "text$size.txt"
        $methods = [ordered]@{
            'PSSharedMemory by name'                 = @{ Kind = 'Reference'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Write-SharedMemory -Name $segText.Name -Value $text; $null = Read-SharedMemory -Name $segText.Name } } }
            'PSSharedMemory segment object'          = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $segText | Write-SharedMemory -Value $text; $null = Read-SharedMemory -InputObject $segText } } }
            'Set-Content / Get-Content -Raw'         = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Set-Content -LiteralPath $fileText -Value $text -NoNewline; $null = Get-Content -LiteralPath $fileText -Raw } } }
            '[IO.File]::WriteAllText / ReadAllText'  = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { [IO.File]::WriteAllText($fileText, $text); $null = [IO.File]::ReadAllText($fileText) } } }
            'Export-Clixml / Import-Clixml'          = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Export-Clixml -LiteralPath $fileText -InputObject $text; $null = Import-Clixml -LiteralPath $fileText } } }
            'ConvertTo-Json / ConvertFrom-Json file' = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { ConvertTo-Json -InputObject $text | Set-Content -LiteralPath $fileText; $null = Get-Content -LiteralPath $fileText -Raw | ConvertFrom-Json } } }
        }
        Write-SharedMemory -Name $segText.Name -Value $text
        if ((Read-SharedMemory -Name $segText.Name) -cne $text) { throw "$label did not come back intact." }
        if ($size -eq 64KB) {
            Invoke-Case -Case $label -Methods $methods -Inner $plan.MidInner -Samples $plan.MidSamples
        }
        else {
            Invoke-Case -Case $label -Methods $methods -Inner $plan.BigInner -Samples $plan.ExtraSamples -Warmup $plan.BigWarmup
        }
        $text = $null
    }

    # ---------------------------------------------------------------- 16 MiB of bytes
    $bytes = [byte[]]::new(16MB)
    [Random]::new(42).NextBytes($bytes)
    $middle = [byte[]]::new(16MB); $out = [byte[]]::new(16MB)
    [Buffer]::BlockCopy($bytes, 0, $middle, 0, 16MB); [Buffer]::BlockCopy($middle, 0, $out, 0, 16MB)   # touch them
    $segBytes = New-BenchSegment 'bytes' (16MB + 4KB)
    $fileBytes = Join-Path $fileDir 'bytes.bin'
    $floorBytes = 'Floor: BlockCopy + new byte[16 MiB] + BlockCopy'
    $methods = [ordered]@{
        $floorBytes                                = @{ Kind = 'Floor'; Note = 'a write plus a read that returns a new array, as -AsByteStream must'
            Body = { param($n) for ($i = 0; $i -lt $n; $i++) { [Buffer]::BlockCopy($bytes, 0, $middle, 0, 16MB); $fresh = [byte[]]::new(16MB); [Buffer]::BlockCopy($middle, 0, $fresh, 0, 16MB); $fresh = $null } } }
        '[Buffer]::BlockCopy 16 MiB, twice'        = @{ Kind = 'Reference'; Baseline = $floorBytes; Note = 'no new array: the copies alone'
            Body = { param($n) for ($i = 0; $i -lt $n; $i++) { [Buffer]::BlockCopy($bytes, 0, $middle, 0, 16MB); [Buffer]::BlockCopy($middle, 0, $out, 0, 16MB) } } }
        'PSSharedMemory by name'                   = @{ Kind = 'Goal'; Baseline = $floorBytes; Limit = 1.2; GoalText = '16 MiB of bytes by name (Write + Read -AsByteStream) ≤ 1.2× the new-array floor'
            Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Write-SharedMemory -Name $segBytes.Name -Value $bytes; $null = Read-SharedMemory -Name $segBytes.Name -AsByteStream } } }
        'PSSharedMemory segment object'            = @{ Kind = 'Alternative'; Baseline = $floorBytes; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $segBytes | Write-SharedMemory -Value $bytes; $null = Read-SharedMemory -InputObject $segBytes -AsByteStream } } }
        '[IO.File]::WriteAllBytes / ReadAllBytes'  = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { [IO.File]::WriteAllBytes($fileBytes, $bytes); $null = [IO.File]::ReadAllBytes($fileBytes) } } }
        'Export-Clixml / Import-Clixml'            = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Export-Clixml -LiteralPath $fileBytes -InputObject $bytes; $null = Import-Clixml -LiteralPath $fileBytes } } }
        'Breakdown: Write-SharedMemory -Name alone' = @{ Kind = 'Breakdown'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Write-SharedMemory -Name $segBytes.Name -Value $bytes } } }
        'Breakdown: Read-SharedMemory -AsByteStream alone' = @{ Kind = 'Breakdown'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = Read-SharedMemory -Name $segBytes.Name -AsByteStream } } }
    }
    Write-SharedMemory -Name $segBytes.Name -Value $bytes
    $back = Read-SharedMemory -Name $segBytes.Name -AsByteStream
    if ($back -isnot [byte[]] -or -not [Linq.Enumerable]::SequenceEqual($back, $bytes)) { throw '16 MiB of bytes did not come back intact.' }
    $back = $null
    Invoke-Case -Case '16 MiB of bytes' -Methods $methods -Inner $plan.BigInner -Samples $plan.BigSamples -Warmup $plan.BigWarmup
    $bytes = $middle = $out = $null

    # ---------------------------------------------------------------- 1000 PSCustomObjects
    $epoch = [datetime]::new(2025, 1, 1, 0, 0, 0, [DateTimeKind]::Utc)
    $objects = foreach ($i in 1..1000) {
        [pscustomobject]@{ Id = $i; Name = "item-$i"; Value = $i * 1.5; When = $epoch.AddMinutes($i); Enabled = ($i % 2 -eq 0) }
    }
    $segObjects = New-BenchSegment 'objects' 16MB
    $fileObjects = Join-Path $fileDir 'objects.xml'
    $fileJson = Join-Path $fileDir 'objects.json'
    $clixmlPiped = 'Export-Clixml / Import-Clixml, piped'
    $clixmlValue = 'Export-Clixml -InputObject / Import-Clixml'
    $shmPiped = 'PSSharedMemory piped: $objects | Write-SharedMemory -Name; Read-SharedMemory'
    $shmValue = 'PSSharedMemory by value: Write-SharedMemory -Name -Value $objects; Read-SharedMemory'
    $methods = [ordered]@{
        $clixmlPiped = @{ Kind = 'Floor'; Note = 'the baseline of the piped goal'
            Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $objects | Export-Clixml -LiteralPath $fileObjects; $null = Import-Clixml -LiteralPath $fileObjects } } }
        $clixmlValue = @{ Kind = 'Floor'; Note = 'the baseline of the by-value goal'
            Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Export-Clixml -LiteralPath $fileObjects -InputObject $objects; $null = Import-Clixml -LiteralPath $fileObjects } } }
        $shmPiped = @{ Kind = 'Goal'; Baseline = $clixmlPiped; Limit = 0.5; GoalText = '1000 PSCustomObjects piped (Write+Read) ≥ 2× faster than piped Export-Clixml + Import-Clixml, same fidelity'
            Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $objects | Write-SharedMemory -Name $segObjects.Name; $null = Read-SharedMemory -Name $segObjects.Name } } }
        $shmValue = @{ Kind = 'Goal'; Baseline = $clixmlValue; Limit = 1 / 3; GoalText = '1000 PSCustomObjects by value (Write -Value + Read) ≥ 3× faster than Export-Clixml -InputObject + Import-Clixml, same fidelity'
            Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Write-SharedMemory -Name $segObjects.Name -Value $objects; $null = Read-SharedMemory -Name $segObjects.Name } } }
        'PSSharedMemory segment object, by value' = @{ Kind = 'Alternative'; Baseline = $clixmlValue; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $segObjects | Write-SharedMemory -Value $objects; $null = Read-SharedMemory -InputObject $segObjects } } }
        'ConvertTo-Json -InputObject / ConvertFrom-Json file' = @{ Kind = 'Alternative'; Baseline = $clixmlValue; Note = 'loses types: When comes back as a DateTime by guess, no Deserialized.* names'
            Body = { param($n) for ($i = 0; $i -lt $n; $i++) { ConvertTo-Json -InputObject $objects | Set-Content -LiteralPath $fileJson; $null = Get-Content -LiteralPath $fileJson -Raw | ConvertFrom-Json } } }
        'Breakdown: [PSSerializer]::Serialize (depth 2)' = @{ Kind = 'Breakdown'; Baseline = $clixmlValue; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = [Management.Automation.PSSerializer]::Serialize($objects, 2) } } }
        'Breakdown: [PSSerializer]::DeserializeAsList' = @{ Kind = 'Breakdown'; Baseline = $clixmlValue; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = [Management.Automation.PSSerializer]::DeserializeAsList($objectsXml) } } }
        'Breakdown: Write-SharedMemory -Value alone' = @{ Kind = 'Breakdown'; Baseline = $clixmlValue; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Write-SharedMemory -Name $segObjects.Name -Value $objects } } }
        'Breakdown: Read-SharedMemory alone' = @{ Kind = 'Breakdown'; Baseline = $clixmlValue; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = Read-SharedMemory -Name $segObjects.Name } } }
    }
    $objectsXml = [Management.Automation.PSSerializer]::Serialize($objects, 2)

    function Compare-ObjectList([object[]] $Expected, [object[]] $Actual, [string] $Via, [switch] $SameTypeNames) {
        <#
            The problems found (none: equal). Same number of objects; each with the same property names in
            the same order, the same values of the same types (and DateTime kind); with -SameTypeNames, the
            same type names too (for two deserialized copies).
        #>
        $problems = [Collections.Generic.List[string]]::new()
        if ($Actual.Count -ne $Expected.Count) { $problems.Add("$Via returned $($Actual.Count) objects, not $($Expected.Count)") }
        for ($k = 0; $k -lt [math]::Min($Actual.Count, $Expected.Count) -and $problems.Count -lt 5; $k++) {
            $a = $Expected[$k]; $b = $Actual[$k]
            $namesA = @($a.psobject.Properties.Name); $namesB = @($b.psobject.Properties.Name)
            if (($namesA -join ',') -cne ($namesB -join ',')) { $problems.Add("$Via object $k has properties $($namesB -join ','), not $($namesA -join ',')"); continue }
            foreach ($p in $namesA) {
                $va = $a.$p; $vb = $b.$p
                if ($va.GetType() -ne $vb.GetType() -or $va -ne $vb -or ($va -is [datetime] -and $va.Kind -ne $vb.Kind)) {
                    $problems.Add("$Via object $k property $p is $vb [$($vb.GetType().Name)], not $va [$($va.GetType().Name)]")
                }
            }
            if ($SameTypeNames -and (($a.pstypenames -join ',') -cne ($b.pstypenames -join ','))) {
                $problems.Add("$Via object $k has type names $($b.pstypenames -join ','), not $($a.pstypenames -join ',')")
            }
        }
        Write-Output -NoEnumerate $problems
    }

    # Fidelity, checked in this run: each PSSharedMemory copy against the originals and against the Clixml
    # copy made the same way (piped or by value): property names, values and their types, type names.
    $expectedTypeNames = 'Deserialized.System.Management.Automation.PSCustomObject,Deserialized.System.Object'
    foreach ($way in 'piped', 'by value') {
        if ($way -eq 'piped') {
            $objects | Write-SharedMemory -Name $segObjects.Name
            $objects | Export-Clixml -LiteralPath $fileObjects
        }
        else {
            Write-SharedMemory -Name $segObjects.Name -Value $objects
            Export-Clixml -LiteralPath $fileObjects -InputObject $objects
        }
        $viaShmRaw = Read-SharedMemory -Name $segObjects.Name
        $viaClixmlRaw = Import-Clixml -LiteralPath $fileObjects
        $viaShm = @($viaShmRaw)
        $viaClixml = @($viaClixmlRaw | ForEach-Object { $_ })   # one deserialized ArrayList when exported by value: compare its elements
        $problems = @(@(
                Compare-ObjectList $objects $viaShm "PSSharedMemory ($way)"
                Compare-ObjectList $objects $viaClixml "Clixml ($way)"
                Compare-ObjectList $viaClixml $viaShm "PSSharedMemory against Clixml ($way)" -SameTypeNames
            ) | ForEach-Object { $_ })
        $typeNames = if ($viaShm.Count) { $viaShm[0].pstypenames -join ',' } else { '' }
        if ($typeNames -cne $expectedTypeNames) { $problems += "PSSharedMemory ($way) type names are $typeNames" }
        $fidelity.Add([pscustomobject]@{
                Way = $way; Same = ($problems.Count -eq 0); Problems = @($problems); ShmCount = $viaShm.Count; ClixmlCount = $viaClixml.Count
                ClixmlShape = $(if ($viaClixmlRaw -is [Collections.IList] -and $viaClixmlRaw -isnot [object[]]) { "one $($viaClixmlRaw.GetType().Name) of $($viaClixml.Count) objects" } else { "$($viaClixml.Count) objects" })
                TypeNames = $typeNames
            })
        if ($problems.Count) { Write-Warning "Fidelity ($way): $($problems -join '; ')" }
    }
    Invoke-Case -Case '1000 PSCustomObjects (5 properties)' -Methods $methods -Inner $plan.ObjectInner -Samples $plan.ObjectSamples -Warmup $plan.BigWarmup -Reference $clixmlValue -NoCollect

    # ---------------------------------------------------------------- Get-Process objects
    $processes = @(Get-Process | Select-Object -First 50)
    $processCase = "$($processes.Count) Get-Process objects, piped"
    $segProcesses = New-BenchSegment 'processes' 256MB
    $fileProcesses = Join-Path $fileDir 'processes.xml'
    $fileProcessJson = Join-Path $fileDir 'processes.json'
    $clixmlProcesses = 'Export-Clixml / Import-Clixml, piped'
    $methods = [ordered]@{
        $clixmlProcesses                         = @{ Kind = 'Reference'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $processes | Export-Clixml -LiteralPath $fileProcesses; $null = Import-Clixml -LiteralPath $fileProcesses } } }
        'PSSharedMemory piped'                   = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $processes | Write-SharedMemory -Name $segProcesses.Name; $null = Read-SharedMemory -Name $segProcesses.Name } } }
        'ConvertTo-Json / ConvertFrom-Json file' = @{ Kind = 'Alternative'; Note = 'default -Depth 2, truncated'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { ConvertTo-Json -InputObject $processes -WarningAction SilentlyContinue | Set-Content -LiteralPath $fileProcessJson; $null = Get-Content -LiteralPath $fileProcessJson -Raw | ConvertFrom-Json } } }
        'Breakdown: [PSSerializer]::Serialize (depth 2)' = @{ Kind = 'Breakdown'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = [Management.Automation.PSSerializer]::Serialize($processes, 2) } } }
    }
    Invoke-Case -Case $processCase -Methods $methods -Inner 1 -Samples $plan.ExtraSamples -Warmup $plan.BigWarmup -Reference $clixmlProcesses -NoCollect
    $processPayload = (Get-SharedMemory -Name $segProcesses.Name).Length

    # ---------------------------------------------------------------- cross-process: wake-up and ping-pong
    Write-Host '  Cross-process: two pwsh processes, the cmdlets against a named pipe, interleaved rounds' -ForegroundColor Cyan
    $wakeName = (New-BenchSegment 'wake' 4KB).Name
    $pingName = (New-BenchSegment 'ping' 4KB).Name
    $pongName = (New-BenchSegment 'pong' 4KB).Name
    foreach ($name in $wakeName, $pingName, $pongName) {
        Write-SharedMemory -Name $name -Value 'start'
        # Seen by this session, so that each Read-SharedMemory -Wait waits for the next write.
        $null = Read-SharedMemory -Name $name
    }
    $controlPipeName = "pssm-bench-$runId-control"
    $dataPipeName = "pssm-bench-$runId-data"
    $controlServer = [IO.Pipes.NamedPipeServerStream]::new($controlPipeName, [IO.Pipes.PipeDirection]::InOut, 1)
    $dataServer = [IO.Pipes.NamedPipeServerStream]::new($dataPipeName, [IO.Pipes.PipeDirection]::InOut, 1)
    $peer = $null
    try {
        $peer = Start-Process -FilePath $PwshPath -PassThru -NoNewWindow -ArgumentList @(
            '-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'CrossProcessPeer.ps1'), '-ModulePath', $ModulePath,
            '-ControlPipe', $controlPipeName, '-DataPipe', $dataPipeName, '-WakeName', $wakeName, '-PingName', $pingName, '-PongName', $pongName,
            '-GapMilliseconds', $gapMilliseconds)
        foreach ($server in $controlServer, $dataServer) {
            if (-not $server.WaitForConnectionAsync().Wait(60000)) { throw 'The peer pwsh did not connect to the pipes within 60 s.' }
        }
        $controlReader = [IO.StreamReader]::new($controlServer)
        $controlWriter = [IO.StreamWriter]::new($controlServer)
        $controlWriter.AutoFlush = $true
        $r = [IO.StreamReader]::new($dataServer)
        $w = [IO.StreamWriter]::new($dataServer)
        $gap = $gapMilliseconds

        $crossKinds = 'wake-shm', 'wake-pipe', 'wake-floor', 'pingpong-shm', 'pingpong-pipe', 'pingpong-floor'
        $crossSamples = @{}
        foreach ($kind in $crossKinds) { $crossSamples[$kind] = [Collections.Generic.List[double]]::new() }

        function Invoke-CrossRound([string] $Kind, [int] $Count, [Collections.Generic.List[double]] $Into) {
            <#
                One round: the command and the peer's "ready" on the control pipe (the handshake), Count
                messages, then the peer's "done". The first message of a round is not kept (it may find a
                side still entering its loop). One way: the peer stamps each message just before its call,
                this process subtracts when its call returns. Round trip: this process stamps before its
                write and after its read returns. Both sides pace with the same sleep of $gap ms.
            #>
            $controlWriter.WriteLine("$Kind $Count")
            $answer = $controlReader.ReadLine()
            if ($answer -ne 'ready') { throw "The peer answered '$answer' to '$Kind'." }
            switch ($Kind) {
                'wake-shm' {
                    $last = -1
                    while ($last -lt $Count - 1) {
                        $message = Read-SharedMemory -Name $wakeName -Wait -Timeout 60
                        $now = [Diagnostics.Stopwatch]::GetTimestamp()
                        $index, $stamp = $message -split ' '
                        $last = [int]$index
                        if ($last -ge 1) { $Into.Add(($now - [long]$stamp) * $tickToMicroseconds) }
                    }
                }
                'wake-pipe' {
                    for ($i = 0; $i -lt $Count; $i++) {
                        $message = $r.ReadLine()
                        $now = [Diagnostics.Stopwatch]::GetTimestamp()
                        $index, $stamp = $message -split ' '
                        if ([int]$index -ge 1) { $Into.Add(($now - [long]$stamp) * $tickToMicroseconds) }
                    }
                }
                'wake-floor' {
                    for ($i = 0; $i -lt $Count; $i++) {
                        $message = Write-Output -InputObject $r.ReadLine()
                        $now = [Diagnostics.Stopwatch]::GetTimestamp()
                        $index, $stamp = $message -split ' '
                        if ([int]$index -ge 1) { $Into.Add(($now - [long]$stamp) * $tickToMicroseconds) }
                    }
                }
                'pingpong-shm' {
                    for ($i = 0; $i -lt $Count; $i++) {
                        [Threading.Thread]::Sleep($gap)
                        $t0 = [Diagnostics.Stopwatch]::GetTimestamp()
                        Write-SharedMemory -Name $pingName -Value "$i"
                        $answer = Read-SharedMemory -Name $pongName -Wait -Timeout 60
                        $t1 = [Diagnostics.Stopwatch]::GetTimestamp()
                        if ($answer -ne "$i") { throw "Ping-pong through the cmdlets: sent $i, got back '$answer'." }
                        if ($i -ge 1) { $Into.Add(($t1 - $t0) * $tickToMicroseconds) }
                    }
                }
                'pingpong-pipe' {
                    for ($i = 0; $i -lt $Count; $i++) {
                        [Threading.Thread]::Sleep($gap)
                        $t0 = [Diagnostics.Stopwatch]::GetTimestamp()
                        $w.WriteLine("$i"); $w.Flush()
                        $answer = $r.ReadLine()
                        $t1 = [Diagnostics.Stopwatch]::GetTimestamp()
                        if ($answer -ne "$i") { throw "Ping-pong through the pipe: sent $i, got back '$answer'." }
                        if ($i -ge 1) { $Into.Add(($t1 - $t0) * $tickToMicroseconds) }
                    }
                }
                'pingpong-floor' {
                    for ($i = 0; $i -lt $Count; $i++) {
                        [Threading.Thread]::Sleep($gap)
                        $t0 = [Diagnostics.Stopwatch]::GetTimestamp()
                        $null = Write-Output -InputObject "$i"
                        $w.WriteLine("$i"); $w.Flush()
                        $answer = $r.ReadLine()
                        $null = Write-Output -InputObject $answer
                        $t1 = [Diagnostics.Stopwatch]::GetTimestamp()
                        if ($answer -ne "$i") { throw "Ping-pong through the pipe: sent $i, got back '$answer'." }
                        if ($i -ge 1) { $Into.Add(($t1 - $t0) * $tickToMicroseconds) }
                    }
                }
            }
            $answer = $controlReader.ReadLine()
            if ($answer -notmatch '^done (\d+)$') { throw "The peer answered '$answer' at the end of '$Kind'." }
            $script:peerCompiled = [long]$Matches[1]
        }

        # Warm-up rounds of each kind, not kept, for at least as long as the other cases warm up, and then
        # until a whole pass of every kind leaves the number of methods compiled by the runtime unchanged
        # in both processes. The peer starts cold here, and until then its runtime's compiler thread
        # (optimizing the hot code in the background) takes one of the processors the exchange needs.
        # Then the rounds, each kind once per round in a shuffled order.
        $discard = [Collections.Generic.List[double]]::new()
        $warming = [Diagnostics.Stopwatch]::StartNew()
        $script:peerCompiled = -1
        $passes = 0
        do {
            $before = [System.Runtime.JitInfo]::GetCompiledMethodCount($false), $script:peerCompiled
            foreach ($kind in $crossKinds) { Invoke-CrossRound $kind 10 $discard }
            $after = [System.Runtime.JitInfo]::GetCompiledMethodCount($false), $script:peerCompiled
            $steady = $before[0] -eq $after[0] -and $before[1] -eq $after[1]
            $passes++
        } while ($warming.Elapsed.TotalSeconds -lt $plan.WarmupSeconds -or (-not $steady -and $warming.Elapsed.TotalSeconds -lt $plan.CrossWarmupLimitSeconds))
        $crossNotes.Add(('Warm-up: {0} passes of 10 messages of every kind in {1:N0} s; {2}' -f $passes, $warming.Elapsed.TotalSeconds,
                $(if ($steady) { "the last pass compiled no method in either process ($($after[0]) here, $($after[1]) in the peer)" } else { "still compiling after the limit of $($plan.CrossWarmupLimitSeconds) s ($($before[0]) -> $($after[0]) methods here, $($before[1]) -> $($after[1]) in the peer)" })))
        for ($round = 0; $round -lt $plan.CrossRounds; $round++) {
            foreach ($kind in ($crossKinds | Sort-Object { $shuffle.Next() })) {
                Invoke-CrossRound $kind $plan.CrossCount $crossSamples[$kind]
            }
        }
        $controlWriter.WriteLine('exit')
        if (-not $peer.WaitForExit(30000)) { throw 'The peer pwsh did not exit.' }
    }
    finally {
        if ($peer -and -not $peer.HasExited) { $peer.Kill() }
        $dataServer.Dispose()
        $controlServer.Dispose()
    }

    $sent = $plan.CrossRounds * ($plan.CrossCount - 1)
    $lost = $sent - $crossSamples['wake-shm'].Count
    $crossNotes.Add("$($plan.CrossRounds) rounds of each kind, interleaved in a shuffled order, $($plan.CrossCount) messages per round of which the first is not kept; a message every $gapMilliseconds ms ([Threading.Thread]::Sleep($gapMilliseconds) before each, on the sending side of every kind).")
    if ($lost -gt 0) {
        $crossNotes.Add("Read-SharedMemory -Wait returned the latest value: $lost of $sent wake-up messages were overwritten by the next before the reader came back to its wait, and have no sample (a segment holds one value; the pipe queues every line).")
    }

    $wakeCase = "Cross-process wake-up, one way (a message every $gapMilliseconds ms)"
    $pipeOneWay = 'Named pipe: $w.WriteLine($stamp); $w.Flush() -> $r.ReadLine() returns'
    Add-Row -Case $wakeCase -Method $pipeOneWay -Spec @{ Kind = 'Floor' } -Samples $crossSamples['wake-pipe'].ToArray() -Inner 1
    $wakeFloor = 'Floor: named pipe one way + one Write-Output call on each side'
    $wakeShm = 'PSSharedMemory: Write-SharedMemory -Value $stamp -> Read-SharedMemory -Wait returns'
    Add-Row -Case $wakeCase -Method $wakeFloor -Spec @{ Kind = 'Floor'; Baseline = $pipeOneWay; Note = 'the least any cmdlet on each side can add to the pipe' } -Samples $crossSamples['wake-floor'].ToArray() -Inner 1
    Add-Row -Case $wakeCase -Method $wakeShm -Samples $crossSamples['wake-shm'].ToArray() -Inner 1 `
        -Spec @{ Kind = 'Goal'; Baseline = $pipeOneWay; Limit = 2.0; GoalText = "Wake-up: Write-SharedMemory in one pwsh until Read-SharedMemory -Wait returns in another ≤ 2× a named pipe one way, $gapMilliseconds ms between messages" }
    Complete-Case $wakeCase
    Add-DerivedGoal -Case $wakeCase -From $wakeShm -Baseline $wakeFloor -Limit 2.0 `
        -GoalText "Wake-up, as above, ≤ 2× a named pipe one way with one trivial cmdlet call on each side, $gapMilliseconds ms between messages"

    $pingCase = "Cross-process ping-pong, round trip (one every $gapMilliseconds ms)"
    $pipeRoundTrip = 'Named pipe round trip, bare'
    $pingFloor = 'Floor: named pipe round trip + 4 Write-Output calls (2 on each side)'
    Add-Row -Case $pingCase -Method $pipeRoundTrip -Spec @{ Kind = 'Reference'; Note = 'WriteLine + Flush, the peer ReadLine + WriteLine + Flush, ReadLine' } -Samples $crossSamples['pingpong-pipe'].ToArray() -Inner 1
    Add-Row -Case $pingCase -Method $pingFloor -Spec @{ Kind = 'Floor' } -Samples $crossSamples['pingpong-floor'].ToArray() -Inner 1
    Add-Row -Case $pingCase -Method 'PSSharedMemory: Write-SharedMemory ping; Read-SharedMemory -Wait pong (the peer: Read -Wait ping; Write pong)' -Samples $crossSamples['pingpong-shm'].ToArray() -Inner 1 `
        -Spec @{ Kind = 'Goal'; Baseline = $pingFloor; Limit = 1.5; GoalText = 'Ping-pong round trip through the cmdlets ≤ 1.5× (named pipe round trip + 4 trivial cmdlet calls)' }
    Complete-Case $pingCase

    # ---------------------------------------------------------------- cold start
    Write-Host "  Cold start: a new pwsh each run, $($plan.ColdRuns) runs of each, interleaved" -ForegroundColor Cyan
    $coldName = (New-BenchSegment 'cold' 4KB).Name
    $coldText = 'cold start'
    Write-SharedMemory -Name $coldName -Value $coldText
    $coldFile = Join-Path $fileDir 'cold.txt'
    Set-Content -LiteralPath $coldFile -Value $coldText
    $quotedManifest = "'" + ($manifest -replace "'", "''") + "'"
    $quotedFile = "'" + ($coldFile -replace "'", "''") + "'"
    $coldFloor = 'Floor: pwsh -NoProfile -c "Get-Content <file>"'
    $coldShm = 'pwsh -NoProfile -c "Import-Module <psd1>; Read-SharedMemory <name>"'
    $coldStarts = [ordered]@{
        $coldFloor                                 = @{ Command = "Get-Content -LiteralPath $quotedFile"; Expect = $coldText; Spec = @{ Kind = 'Floor' } }
        $coldShm                                   = @{ Command = "Import-Module $quotedManifest; Read-SharedMemory $coldName"; Expect = $coldText
            Spec = @{ Kind = 'Goal'; Baseline = $coldFloor; Limit = 1.15; GoalText = 'Cold start: pwsh -NoProfile -c "Import-Module <staged psd1>; Read-SharedMemory x" ≤ 1.15× pwsh -NoProfile -c "Get-Content file"' } }
        'pwsh -NoProfile -c "Import-Module <psd1>"' = @{ Command = "Import-Module $quotedManifest"; Expect = ''; Spec = @{ Kind = 'Breakdown'; Baseline = $coldFloor } }
        'pwsh -NoProfile -c "0"'                   = @{ Command = '0'; Expect = '0'; Spec = @{ Kind = 'Breakdown'; Baseline = $coldFloor; Note = 'pwsh alone' } }
    }

    function Measure-ColdStart([string] $Command, [string] $Expect) {
        # From starting the process to its exit, with its output read; the run must have done its work.
        $info = [Diagnostics.ProcessStartInfo]::new($PwshPath)
        foreach ($argument in '-NoProfile', '-NonInteractive', '-c', $Command) { $info.ArgumentList.Add($argument) }
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $info.UseShellExecute = $false
        $t0 = [Diagnostics.Stopwatch]::GetTimestamp()
        $process = [Diagnostics.Process]::Start($info)
        $errorTask = $process.StandardError.ReadToEndAsync()
        $output = $process.StandardOutput.ReadToEnd()
        $process.WaitForExit()
        $elapsed = ([Diagnostics.Stopwatch]::GetTimestamp() - $t0) * $tickToMicroseconds
        $errors = $errorTask.GetAwaiter().GetResult()
        if ($process.ExitCode -ne 0 -or $output.Trim() -cne $Expect -or $errors.Trim()) {
            throw "Cold start '$Command' failed (exit code $($process.ExitCode)): output '$($output.Trim())', errors '$($errors.Trim())'."
        }
        $process.Dispose()
        return $elapsed
    }

    $coldSamples = @{}
    foreach ($name in $coldStarts.Keys) {
        $coldSamples[$name] = [Collections.Generic.List[double]]::new()
        $null = Measure-ColdStart $coldStarts[$name].Command $coldStarts[$name].Expect   # warm-up: files in the page cache
    }
    for ($run = 0; $run -lt $plan.ColdRuns; $run++) {
        foreach ($name in (@($coldStarts.Keys) | Sort-Object { $shuffle.Next() })) {
            $coldSamples[$name].Add((Measure-ColdStart $coldStarts[$name].Command $coldStarts[$name].Expect))
        }
    }
    $coldCase = 'Cold start (a new process each run)'
    foreach ($name in $coldStarts.Keys) {
        Add-Row -Case $coldCase -Method $name -Spec $coldStarts[$name].Spec -Samples $coldSamples[$name].ToArray() -Inner 1
    }
    Complete-Case $coldCase
}
finally {
    if ($hardeningFloor) { $hardeningFloor.Stream.Dispose() }
    foreach ($name in $segments) { Remove-SharedMemory -Name $name -ErrorAction SilentlyContinue -Confirm:$false }
    Remove-Item -LiteralPath $fileDir -Recurse -Force -ErrorAction SilentlyContinue
}

# -------------------------------------------------------------------- goals
$goals = [Collections.Generic.List[object]]::new()
function Add-Goal([string] $Goal, [string] $Measured, [string] $Baseline, [double] $Ratio, [string] $Limit, [bool] $Met) {
    $goals.Add([pscustomobject]@{ Goal = $Goal; Measured = $Measured; Baseline = $Baseline; Ratio = (Format-Ratio $Ratio); Limit = $Limit; Status = $(if ($Met) { 'met' } else { '**NOT met**' }) })
}

foreach ($row in @($results | Where-Object { $null -ne $_.Limit })) {
    $met = $row.Status -eq 'met'
    $ratioText = Format-Ratio $row.Ratio
    $limitText = if ($row.Limit -lt 1) { '≤ {0:N2}× (≥ {1:N0}× faster)' -f $row.Limit, (1 / $row.Limit) } else { '≤ {0:N2}×' -f $row.Limit }
    $measured = '{0} (p99 {1})' -f (Format-Time $row.Median), (Format-Time $row.P99)
    $baselineText = '{0}: {1}' -f ($row.Baseline -replace '^Floor: ', ''), (Format-Time $row.BaselineMedian)
    if ($row.Ratio -lt 0.995) { $ratioText += ' ({0:N2}× faster)' -f (1 / $row.Ratio) }
    elseif ($row.Limit -lt 1) { $ratioText += ' (slower)' }
    if ($row.Case -like '1000 PSCustomObjects*') {
        $way = if ($row.Method -like '*piped*') { 'piped' } else { 'by value' }
        $check = $fidelity | Where-Object Way -EQ $way
        $met = $met -and $check.Same
        $ratioText += "; fidelity $(if ($check.Same) { 'the same' } else { 'DIFFERS' })"
    }
    if ($row.Case -like 'Cross-process ping-pong*') {
        $bare = $results | Where-Object { $_.Case -eq $row.Case -and $_.Method -eq $pipeRoundTrip }
        $measured += '; {0:N1}× the bare pipe round trip ({1})' -f ($row.Median / $bare.Median), (Format-Time $bare.Median)
    }
    Add-Goal $row.GoalText $measured $baselineText $row.Ratio $limitText $met
    $goals[$goals.Count - 1].Ratio = $ratioText
}

# Engine goals: no regression beyond 10 % against the ratios of the last full report, each ratio taken to
# its floor in the same run. The previous ratios are from bench/results/2026-11-26.md (medians):
#   Lock()+Unlock() 1,045.8 ns / 'flock pair (syscalls only)' 913.1 ns                      = 1.145
#   RoundTrip 64 B: Write+Read 1,111.103 ns / '2x memcpy + Lock/Unlock' 1,008.885 ns          = 1.101
#   pingpong, shared memory / anonymous pipe medians ("Ratio (median)" column):
#     one way 4.67, round trip 5.19, idle waiter (a write every 2 ms) 0.67
$previousEngineRatios = [ordered]@{
    Lock      = 1045.8 / 913.1
    RoundTrip = 1111.103 / 1008.885
    OneWay    = 4.67
    Both      = 5.19
    Idle      = 0.67
    # The 2026-11-26 build (b752e81) against its own floor (futex wake + flock pair), in interleaved rounds
    # of the same program, median of three runs on 2026-11-28: bench/results/2026-11-28-idle-reference.md.
    IdleToFloor = 16.6 / 14.5
}
$engineSection = ''
$engineSummary = [Collections.Generic.List[string]]::new()
if ($EngineResultsPath -and (Test-Path -LiteralPath $EngineResultsPath)) {
    function Read-EngineCsv([string] $Pattern) {
        $file = Get-ChildItem -LiteralPath $EngineResultsPath -Filter $Pattern | Select-Object -First 1
        if ($file) { Import-Csv -LiteralPath $file.FullName -Delimiter ';' }
    }
    function ConvertTo-Nanoseconds([string] $Cell) { [double]($Cell -replace ',', '') }
    function Find-Method([object[]] $Rows, [string] $Method) {
        # BenchmarkDotNet quotes descriptions with spaces or symbols in its CSV.
        $Rows | Where-Object { ($_.Method -replace "^'|'$", '') -eq $Method } | Select-Object -First 1
    }
    function Add-EngineGoal([string] $Goal, [double] $Numerator, [double] $Denominator, [string] $Unit, [double] $Previous, [string] $BaselineName, [string] $Spread) {
        # Spread: the tail the source gives (BenchmarkDotNet: P95 of the iterations; the ping-pong: p99 of the messages).
        $ratio = $Numerator / $Denominator
        $limit = $Previous * 1.10
        Add-Goal $Goal ('{0:N1} {1} ({2})' -f $Numerator, $Unit, $Spread) ('{0}: {1:N1} {2}' -f $BaselineName, $Denominator, $Unit) $ratio ('≤ {0:N2}× (2026-11-26: {1:N2}× + 10 %)' -f $limit, $Previous) ($ratio -le $limit)
    }

    $lockRows = @(Read-EngineCsv '*LockBenchmarks-report.csv')
    $roundRows = @(Read-EngineCsv '*RoundTripBenchmarks-report.csv')
    # The goals take their ratios from the interleaved rounds of the paired benchmark (both sides in one
    # process, at the same moments); BenchmarkDotNet's ratio, from processes minutes apart, is shown beside.
    $pairedJson = Join-Path $EngineResultsPath 'paired.json'
    $paired = if (Test-Path -LiteralPath $pairedJson) { (Get-Content -LiteralPath $pairedJson -Raw | ConvertFrom-Json).Results } else { @() }
    function Get-PairedRow([string] $Name) { $paired | Where-Object Name -EQ $Name | Select-Object -First 1 }
    $lockGoal = 'Engine lock: Lock()+Unlock(), no regression beyond 10 % as a ratio to the system calls it makes (2026-11-26: the flock pair; now the flock pair and 2 fstat checks)'
    $tripGoal = 'Engine 64 B round trip: Write+Read, no regression beyond 10 % as a ratio to 2x memcpy + Lock/Unlock'
    $bdnLock = $null
    if ($lockRows) {
        $lock = Find-Method $lockRows 'Lock()+Unlock()'
        $flock = Find-Method $lockRows 'flock pair (syscalls only)'
        $checked = Find-Method $lockRows 'flock pair + 2 fstat (the calls Lock+Unlock makes)'
        if ($lock -and $checked) { $bdnLock = (ConvertTo-Nanoseconds $lock.'Median [ns]') / (ConvertTo-Nanoseconds $checked.'Median [ns]') }
    }
    $bdnTrip = $null
    if ($roundRows) {
        $r64 = @($roundRows | Where-Object Size -EQ '64')
        $wr = Find-Method $r64 'Write+Read'
        $ml = Find-Method $r64 '2x memcpy + Lock/Unlock'
        if ($wr -and $ml) { $bdnTrip = (ConvertTo-Nanoseconds $wr.'Median [ns]') / (ConvertTo-Nanoseconds $ml.'Median [ns]') }
    }
    $pairedLock = Get-PairedRow 'Lock()+Unlock()'
    if ($pairedLock) {
        # On 2026-11-26 Lock+Unlock made two system calls, the flock pair; since the hardening it makes
        # four (an fstat check before each). The ratio to the calls it makes is the engine's own cost.
        $beside = if ($bdnLock) { '; BenchmarkDotNet, separate processes: {0:N2}×' -f $bdnLock } else { '' }
        Add-EngineGoal $lockGoal $pairedLock.Median $pairedLock.FloorMedian 'ns' $previousEngineRatios.Lock 'flock pair + 2 fstat' ('P95 {0:N1} ns, interleaved rounds{1}' -f $pairedLock.P95, $beside)
    }
    elseif ($lockRows -and $lock -and $checked) {
        $bare = if ($flock) { '; {0:N2}× the bare flock pair ({1:N1} ns)' -f ((ConvertTo-Nanoseconds $lock.'Median [ns]') / (ConvertTo-Nanoseconds $flock.'Median [ns]')), (ConvertTo-Nanoseconds $flock.'Median [ns]') }
        Add-EngineGoal $lockGoal (ConvertTo-Nanoseconds $lock.'Median [ns]') (ConvertTo-Nanoseconds $checked.'Median [ns]') 'ns' $previousEngineRatios.Lock 'flock pair + 2 fstat' ('P95 {0:N1} ns{1}' -f (ConvertTo-Nanoseconds $lock.'P95 [ns]'), $bare)
    }
    $pairedTrip = Get-PairedRow 'Write+Read, 64 B'
    if ($pairedTrip) {
        $beside = if ($bdnTrip) { '; BenchmarkDotNet, separate processes: {0:N2}×' -f $bdnTrip } else { '' }
        Add-EngineGoal $tripGoal $pairedTrip.Median $pairedTrip.FloorMedian 'ns' $previousEngineRatios.RoundTrip '2x memcpy + Lock/Unlock' ('P95 {0:N1} ns, interleaved rounds{1}' -f $pairedTrip.P95, $beside)
    }
    elseif ($roundRows -and $wr -and $ml) {
        Add-EngineGoal $tripGoal (ConvertTo-Nanoseconds $wr.'Median [ns]') (ConvertTo-Nanoseconds $ml.'Median [ns]') 'ns' $previousEngineRatios.RoundTrip '2x memcpy + Lock/Unlock' ('P95 {0:N1} ns' -f (ConvertTo-Nanoseconds $wr.'P95 [ns]'))
    }
    if ($roundRows) {
        $mib = @($roundRows | Where-Object Size -EQ '1048576')
        $fresh = Find-Method $mib 'Write+Read'
        $reused = Find-Method $mib 'Write+Read(buffer)'
        if ($fresh -and $reused) {
            $engineSummary.Add(('- 1 MiB Write + Read into a reused buffer (`Read(byte[], int)`): {0:N1} µs, against {1:N1} µs for Write + `Read()` into a new array ({2:N1}× faster).' -f `
                    ((ConvertTo-Nanoseconds $reused.'Median [ns]') / 1000), ((ConvertTo-Nanoseconds $fresh.'Median [ns]') / 1000), ((ConvertTo-Nanoseconds $fresh.'Median [ns]') / (ConvertTo-Nanoseconds $reused.'Median [ns]'))))
        }
    }
    $pingJson = Join-Path $EngineResultsPath 'pingpong.json'
    if (Test-Path -LiteralPath $pingJson) {
        $ping = Get-Content -LiteralPath $pingJson -Raw | ConvertFrom-Json
        function Get-PingRow([string] $Like) { $ping.Results | Where-Object Name -Like $Like | Select-Object -First 1 }
        $pairs = @(
            @{ Goal = 'Engine wake-up, one way (hot ping-pong): shared memory / anonymous pipe, no regression beyond 10 %'; Shm = 'shared memory*one way'; Pipe = 'anonymous pipe*one way'; Previous = $previousEngineRatios.OneWay }
            @{ Goal = 'Engine wake-up, round trip: shared memory / anonymous pipe, no regression beyond 10 %'; Shm = 'shared memory: round trip'; Pipe = 'anonymous pipe: round trip'; Previous = $previousEngineRatios.Both }
        )
        foreach ($pair in $pairs) {
            $shm = Get-PingRow $pair.Shm; $pipe = Get-PingRow $pair.Pipe
            if ($shm -and $pipe) { Add-EngineGoal $pair.Goal $shm.Median $pipe.Median 'µs' $pair.Previous 'anonymous pipe' ('p99 {0:N1} µs' -f $shm.P99) }
        }
        # The idle waiter, from rounds that interleave every kind of message. Its 2026-11-26 ratio to the pipe
        # (0.67) is below what a bare futex wake, with no work at all, now reaches against the pipe on this
        # machine (the floor row shows it), so that ratio cannot be kept. As with the lock, the goal is the
        # ratio to the system calls the wake makes, against that of the 2026-11-26 build.
        $idle = Get-PingRow 'shared memory: idle*'
        $idlePipe = Get-PingRow 'anonymous pipe: idle*'
        $idleFloor = Get-PingRow 'floor: futex wake + flock pair + 2 fstat*'
        $bareFutex = Get-PingRow 'floor: futex wake, idle*'
        if ($idle -and $idleFloor) {
            $context = if ($idlePipe -and $bareFutex) {
                '; {0:N2}× the anonymous pipe ({1:N1} µs), whose 2026-11-26 ratio was {2:N2}×; a bare futex wake, with no lock and no checks: {3:N2}× the pipe' -f ($idle.Median / $idlePipe.Median), $idlePipe.Median, $previousEngineRatios.Idle, ($bareFutex.Median / $idlePipe.Median)
            }
            else { '' }
            Add-EngineGoal 'Engine wake-up, idle waiter (a write every 2 ms): no regression beyond 10 % as a ratio to the system calls of the write and wake (2026-11-26: futex wake + flock pair; now also an fstat on each side)' `
                $idle.Median $idleFloor.Median 'µs' $previousEngineRatios.IdleToFloor 'futex wake + flock pair + 2 fstat, from compiled code' ('p99 {0:N1} µs, interleaved rounds{1}' -f $idle.P99, $context)
        }
    }

    $engineLines = [Collections.Generic.List[string]]::new()
    foreach ($file in Get-ChildItem -LiteralPath $EngineResultsPath -Filter '*-report-github.md' | Sort-Object Name) {
        $engineLines.Add('')
        $engineLines.Add("#### $($file.BaseName -replace '^PSSharedMemory\.Benchmarks\.', '' -replace '-report-github$', '')")
        $engineLines.Add('')
        # The table only; the environment block is in the machine description above.
        $engineLines.AddRange([string[]](Get-Content -LiteralPath $file.FullName | Where-Object { $_ -like '|*' } | ForEach-Object { $_ -replace '&#39;', "'" }))
    }
    $pingMd = Join-Path $EngineResultsPath 'pingpong.md'
    if (Test-Path -LiteralPath $pingMd) {
        $engineLines.Add('')
        $engineLines.Add('#### Cross-process change notification (engine)')
        $engineLines.Add('')
        $engineLines.AddRange([string[]](Get-Content -LiteralPath $pingMd))
    }
    $pairedMd = Join-Path $EngineResultsPath 'paired.md'
    if (Test-Path -LiteralPath $pairedMd) {
        $engineLines.Add('')
        $engineLines.Add('#### Engine operations against their floors, interleaved in one process (the lock and 64 B goals)')
        $engineLines.Add('')
        $engineLines.AddRange([string[]](Get-Content -LiteralPath $pairedMd))
    }
    $engineSection = $engineLines -join "`n"
}

# -------------------------------------------------------------------- report
function Get-Cell([object] $Value, [scriptblock] $Format) { if ($null -eq $Value) { '—' } else { & $Format $Value } }
# A | in a method's name (a pipeline) would end the Markdown table cell.
function Protect-Cell([string] $Text) { $Text -replace '\|', '\|' }

$lines = [Collections.Generic.List[string]]::new()
foreach ($caseName in @($results | ForEach-Object Case | Select-Object -Unique)) {
    $group = @($results | Where-Object Case -EQ $caseName)
    $first = $group[0]
    $lines.Add('')
    $collection = if ($uncollectedCases.Contains($caseName)) { ', no forced collection before a sample' } else { '' }
    if ($first.Inner -gt 1) {
        $lines.Add("#### $caseName  ($($first.Samples) samples of $($first.Inner) operations each, round-robin$collection)")
    }
    elseif ($caseName -like 'Cross-process*' -or $caseName -like 'Cold start*') {
        $lines.Add("#### $caseName")
    }
    else {
        $lines.Add("#### $caseName  ($($first.Samples) samples of 1 operation, round-robin$collection)")
    }
    $lines.Add('')
    $lines.Add('| Method | Samples | Median | p99 | Baseline | Baseline median | Ratio | Goal | Status |')
    $lines.Add('|---|---:|---:|---:|---|---:|---:|---|---|')
    foreach ($row in $group) {
        $note = if ($row.Note) { " ($($row.Note))" } else { '' }
        $baselineName = if ($row.Baseline) { $row.Baseline -replace '^Floor: ', 'floor: ' } else { '—' }
        $goal = if ($null -ne $row.Limit) { if ($row.Limit -lt 1) { '≤ {0:N2}× (≥ {1:N0}× faster)' -f $row.Limit, (1 / $row.Limit) } else { '≤ {0:N2}×' -f $row.Limit } } else { '—' }
        $status = if ($row.Status) { $row.Status } else { '—' }
        $lines.Add("| $(Protect-Cell "$($row.Method)$note") | $($row.Samples) | $(Format-Time $row.Median) | $(Format-Time $row.P99) | $(Protect-Cell $baselineName) | $(Get-Cell $row.BaselineMedian { Format-Time $args[0] }) | $(Get-Cell $row.Ratio { Format-Ratio $args[0] }) | $goal | $status |")
    }
    if ($caseName -like 'Cross-process*') {
        foreach ($note in $crossNotes) { $lines.Add(''); $lines.Add($note) }
        $crossNotes.Clear()
    }
}
$lines.Add('')
$lines.Add('Ratio: the row''s median over its baseline''s median in the same run (below 1: faster than the baseline). p99: the 99th percentile of the samples (nearest rank); with few samples, the slowest.')
$lines.Add('')
$lines.Add('#### Fidelity of the 1000 PSCustomObjects, checked in this run')
$lines.Add('')
foreach ($check in $fidelity) {
    $verdict = if ($check.Same) { 'equal' } else { 'DIFFERENT: ' + ($check.Problems -join '; ') }
    $lines.Add("- $($check.Way): PSSharedMemory returned $($check.ShmCount) objects, Import-Clixml $($check.ClixmlShape); compared with each other and with the originals (property names in order, values and their types, DateTime kind, type names): $verdict. Type names: $($check.TypeNames).")
}
$lines.Add("- $processCase serialize to $processPayload bytes in the segment.")
$comparison = $lines -join "`n"

$goalLines = @('| Goal | Measured (median) | Baseline, same run (median) | Ratio | Limit | Status |', '|---|---|---|---|---|---|') +
    @($goals | ForEach-Object { "| $(Protect-Cell $_.Goal) | $(Protect-Cell $_.Measured) | $(Protect-Cell $_.Baseline) | $($_.Ratio) | $($_.Limit) | $($_.Status) |" })
$goalText = $goalLines -join "`n"
if ($Quick) {
    $goalText += "`n`nA quick run: few samples, and the engine's figures from BenchmarkDotNet's in-process quick job, so the engine rows are indicative only; the full run is the record."
}

Write-Host ''
Write-Host $comparison
Write-Host ''
Write-Host $goalText
$started.Stop()
Write-Host ("Comparison finished in {0:N0} s." -f $started.Elapsed.TotalSeconds)

if ($ReportPath) {
    $cpu = if (Test-Path -LiteralPath '/proc/cpuinfo') { ((Get-Content -LiteralPath '/proc/cpuinfo' | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*', '') } else { $env:PROCESSOR_IDENTIFIER }
    $os = if (Test-Path -LiteralPath '/etc/os-release') { ((Get-Content -LiteralPath '/etc/os-release' | Where-Object { $_ -like 'PRETTY_NAME=*' }) -replace '^PRETTY_NAME=|"', '') + ", kernel $([Environment]::OSVersion.Version)" } else { [Runtime.InteropServices.RuntimeInformation]::OSDescription }
    $nproc = if (Get-Command nproc -ErrorAction SilentlyContinue) { (& nproc).Trim() } else { [Environment]::ProcessorCount }
    $memory = if (Test-Path -LiteralPath '/proc/meminfo') { '{0:N1} GiB RAM' -f (([double]((Get-Content -LiteralPath '/proc/meminfo' -TotalCount 1) -replace '\D', '')) / 1MB) } else { '' }
    $engineSummaryText = if ($engineSummary.Count) { "`n" + ($engineSummary -join "`n") + "`n" } else { '' }
    $report = @"
# PSSharedMemory benchmarks, $(Get-Date -Format 'yyyy-MM-dd')$(if ($Quick) { ' (quick run)' })

Every goal is a ratio to a floor or baseline measured in the same run, on a shared, noisy machine: compare
the ratios, not the absolute times. Run: ``bench/Invoke-Benchmarks.ps1$(if ($Quick) { ' -Quick' })`` (PSSharedMemory $moduleVersion).
How each figure is measured: [bench/README.md](../README.md).

## Goals

$goalText

## Machine

- CPUs (nproc): $nproc; CPU: $cpu; $memory
- OS: $os, $([Runtime.InteropServices.RuntimeInformation]::OSArchitecture)
- PowerShell $($PSVersionTable.PSVersion), .NET $([Environment]::Version); second processes and cold starts: ``$PwshPath``
- Date: $(Get-Date -Format 'yyyy-MM-dd HH:mm K')
- Files of the alternatives: $fileRoot (tmpfs on Linux, like the segments)

## PowerShell: the cmdlets against their floors and the alternatives
$comparison

## Engine (BenchmarkDotNet$(if ($Quick) { ', quick job: 5 iterations of 100 ms, in process' } else { '' }))
$engineSummaryText$(if ($engineSection) { $engineSection } else { "`n(not run)" })
"@
    $null = New-Item -ItemType Directory -Path (Split-Path -Parent $ReportPath) -Force
    Set-Content -LiteralPath $ReportPath -Value $report -Encoding utf8NoBOM
    Write-Host "Report: $ReportPath"
}
