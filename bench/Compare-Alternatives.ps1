#Requires -Version 7.2
<#
.SYNOPSIS
    Times PSSharedMemory against the other ways PowerShell hands data from one place to another, in one run.

.DESCRIPTION
    For each case, every method runs in this process: a warm-up, then N samples timed with
    [System.Diagnostics.Stopwatch], taken round-robin over the methods; each sample runs the operation a
    few times in a loop and divides. The table gives each method's median and its ratio to PSSharedMemory by name (above 1: slower
    than PSSharedMemory). The floors are measured the same way in the same run:
      - two calls of a trivial compiled cmdlet, Write-Output -InputObject $value to $null: one named
        parameter bound, one object written, nothing else, the same per-call machinery (command lookup,
        binding, pipeline) as Read-SharedMemory -Name; the least a pair of cmdlet calls can cost.
        (Get-Variable -Name PID -ValueOnly is shown for reference: it matches the name against the
        variables of every scope, so it is not trivial.)
      - two [Buffer]::BlockCopy calls between arrays that are already touched, the least moving the bytes
        into memory and back out can cost.
    "Segment object" pipes the object from New-SharedMemory into Write-SharedMemory (Name binds by
    property) and passes it to Read-SharedMemory -InputObject. Cross-process cases run a second pwsh
    (CrossProcessPeer.ps1).
    Writes bench/results/<yyyy-MM-dd>.md with the machine description and the tables.

.PARAMETER ModulePath
    The staged module directory (output/PSSharedMemory/<version>).

.PARAMETER PwshPath
    The pwsh that runs the second process; by default the one running this script.

.PARAMETER Quick
    Fewer samples and rounds.

.PARAMETER EngineResultsPath
    The BenchmarkDotNet results directory of the same run; its tables are added to the report.

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
. (Join-Path $PSScriptRoot '../tools/PwshPath.ps1')
if (-not $PwshPath) { $PwshPath = Get-PwshPath }
if (-not $PSBoundParameters.ContainsKey('ReportPath')) {
    # A quick run does not replace the day's full record.
    $ReportPath = Join-Path $PSScriptRoot ("results/{0:yyyy-MM-dd}{1}.md" -f (Get-Date), $(if ($Quick) { '-quick' } else { '' }))
}

Import-Module (Join-Path $ModulePath 'PSSharedMemory.psd1') -Force
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
    $sorted = [double[]]($Values | Sort-Object)
    $index = [math]::Max(0, [math]::Min($sorted.Length - 1, [int][math]::Ceiling($P * $sorted.Length) - 1))
    return $sorted[$index]
}

$tickToMicroseconds = 1e6 / [Diagnostics.Stopwatch]::Frequency

function Format-Time([double] $Microseconds) {
    if ($Microseconds -ge 10000) { return '{0:N1} ms' -f ($Microseconds / 1000) }
    if ($Microseconds -ge 1000) { return '{0:N2} ms' -f ($Microseconds / 1000) }
    return '{0:N1} µs' -f $Microseconds
}

$results = [Collections.Generic.List[object]]::new()
$shuffle = [Random]::new(12345)

function Invoke-Case {
    <#
        Measures each method of one case and records the rows. Methods: ordered dictionary of
        name -> @{ Body = {param($n) ...}; Kind = 'PSSharedMemory'|'Floor'|'Alternative'|'Breakdown'; Note = '' }.
        Each method is warmed up, then the samples go round-robin over the methods in a shuffled order,
        so a burst of load from elsewhere on the machine hits them all alike instead of one method's
        whole run. A full garbage collection (not timed) precedes every sample.
        A sample times Inner operations and divides; the result is the median sample, in microseconds.
    #>
    param([string] $Case, [System.Collections.Specialized.OrderedDictionary] $Methods, [int] $Inner, [int] $Samples, [int] $Warmup = 2)
    Write-Host "  $Case" -ForegroundColor Cyan
    $names = @($Methods.Keys)
    $times = @{}
    foreach ($name in $names) {
        $times[$name] = [double[]]::new($Samples)
        for ($w = 0; $w -lt $Warmup; $w++) { & $Methods[$name].Body $Inner }
    }
    for ($s = 0; $s -lt $Samples; $s++) {
        # A new order each round, and no garbage left by the method before: each pays only for its own.
        foreach ($name in ($names | Sort-Object { $shuffle.Next() })) {
            $body = $Methods[$name].Body
            [GC]::Collect()
            [GC]::WaitForPendingFinalizers()
            $t0 = [Diagnostics.Stopwatch]::GetTimestamp()
            & $body $Inner
            $times[$name][$s] = ([Diagnostics.Stopwatch]::GetTimestamp() - $t0) * $tickToMicroseconds / $Inner
        }
    }

    $rows = foreach ($name in $names) {
        $spec = $Methods[$name]
        $median = Get-Median $times[$name]
        Write-Host ("    {0,-52} {1,12}" -f $name, (Format-Time $median))
        [pscustomobject]@{
            Case = $Case; Method = $name; Kind = $spec.Kind; MedianMicroseconds = $median
            Samples = $Samples; Inner = $Inner; Note = $spec['Note']
        }
    }

    $reference = ($rows | Where-Object Method -EQ 'PSSharedMemory by name' | Select-Object -First 1).MedianMicroseconds
    foreach ($row in $rows) {
        $row | Add-Member -NotePropertyName Ratio -NotePropertyValue ($row.MedianMicroseconds / $reference)
        $results.Add($row)
    }
}

# Sample counts: each sample is Inner operations; the median is over Samples.
$plan = if ($Quick) {
    @{ TinyInner = 100; TinySamples = 11; TinyWarmup = 3; MidInner = 10; MidSamples = 9; BigInner = 1; BigSamples = 5; BigWarmup = 1; CrossRounds = 300 }
}
else {
    @{ TinyInner = 200; TinySamples = 31; TinyWarmup = 5; MidInner = 20; MidSamples = 21; BigInner = 1; BigSamples = 15; BigWarmup = 2; CrossRounds = 2000 }
}

Write-Host "PSSharedMemory $moduleVersion against the alternatives$(if ($Quick) { ' (quick)' }); files in $fileDir" -ForegroundColor Cyan
try {
    # ---------------------------------------------------------------- 100-byte string
    $text100 = ('The quick brown fox jumps over the lazy dog; ' * 3).Substring(0, 100)
    $seg100 = New-BenchSegment 'text100' 4KB
    $file100 = Join-Path $fileDir 'text100.txt'
    $methods = [ordered]@{
        'Floor: Write-Output -InputObject, twice' = @{ Kind = 'Floor'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = Write-Output -InputObject $text100; $null = Write-Output -InputObject $text100 } } }
        'Get-Variable -Name PID -ValueOnly, twice' = @{ Kind = 'Reference'; Note = 'not trivial: matches the name against every scope''s variables'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = Get-Variable -Name PID -ValueOnly; $null = Get-Variable -Name PID -ValueOnly } } }
        'PSSharedMemory by name'                 = @{ Kind = 'PSSharedMemory'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Write-SharedMemory -Name $seg100.Name -Value $text100; $null = Read-SharedMemory -Name $seg100.Name } } }
        'PSSharedMemory segment object'          = @{ Kind = 'PSSharedMemory'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $seg100 | Write-SharedMemory -Value $text100; $null = Read-SharedMemory -InputObject $seg100 } } }
        'Set-Content / Get-Content -Raw'         = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Set-Content -LiteralPath $file100 -Value $text100 -NoNewline; $null = Get-Content -LiteralPath $file100 -Raw } } }
        '[IO.File]::WriteAllText / ReadAllText'  = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { [IO.File]::WriteAllText($file100, $text100); $null = [IO.File]::ReadAllText($file100) } } }
        'Export-Clixml / Import-Clixml'          = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Export-Clixml -LiteralPath $file100 -InputObject $text100; $null = Import-Clixml -LiteralPath $file100 } } }
        'ConvertTo-Json / ConvertFrom-Json file' = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { ConvertTo-Json -InputObject $text100 | Set-Content -LiteralPath $file100; $null = Get-Content -LiteralPath $file100 -Raw | ConvertFrom-Json } } }
        'Breakdown: Write-SharedMemory -Name alone' = @{ Kind = 'Breakdown'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Write-SharedMemory -Name $seg100.Name -Value $text100 } } }
        'Breakdown: Read-SharedMemory -Name alone'  = @{ Kind = 'Breakdown'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = Read-SharedMemory -Name $seg100.Name } } }
    }
    $check = Write-SharedMemory -Name $seg100.Name -Value $text100; $back = Read-SharedMemory -Name $seg100.Name
    if ($back -cne $text100) { throw "The 100-byte string did not come back intact: '$back'." }
    Invoke-Case -Case '100-byte string' -Methods $methods -Inner $plan.TinyInner -Samples $plan.TinySamples -Warmup $plan.TinyWarmup

    # ---------------------------------------------------------------- 64 KiB and 16 MiB of text
    $line = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.' + "`n"
    foreach ($size in 64KB, 16MB) {
        $label = if ($size -eq 64KB) { '64 KiB of text' } else { '16 MiB of text' }
        $text = ($line * [math]::Ceiling($size / $line.Length)).Substring(0, $size)
        $segText = New-BenchSegment "text$size" ($size + 4KB)
        $fileText = Join-Path $fileDir "text$size.txt"
        $methods = [ordered]@{
            'PSSharedMemory by name'                 = @{ Kind = 'PSSharedMemory'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Write-SharedMemory -Name $segText.Name -Value $text; $null = Read-SharedMemory -Name $segText.Name } } }
            'PSSharedMemory segment object'          = @{ Kind = 'PSSharedMemory'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $segText | Write-SharedMemory -Value $text; $null = Read-SharedMemory -InputObject $segText } } }
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
            Invoke-Case -Case $label -Methods $methods -Inner $plan.BigInner -Samples $plan.BigSamples -Warmup $plan.BigWarmup
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
    $methods = [ordered]@{
        'Floor: [Buffer]::BlockCopy 16 MiB, twice' = @{ Kind = 'Floor'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { [Buffer]::BlockCopy($bytes, 0, $middle, 0, 16MB); [Buffer]::BlockCopy($middle, 0, $out, 0, 16MB) } } }
        'PSSharedMemory by name'                   = @{ Kind = 'PSSharedMemory'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Write-SharedMemory -Name $segBytes.Name -Value $bytes; $null = Read-SharedMemory -Name $segBytes.Name -AsByteArray } } }
        'PSSharedMemory segment object'            = @{ Kind = 'PSSharedMemory'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $segBytes | Write-SharedMemory -Value $bytes; $null = Read-SharedMemory -InputObject $segBytes -AsByteArray } } }
        '[IO.File]::WriteAllBytes / ReadAllBytes'  = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { [IO.File]::WriteAllBytes($fileBytes, $bytes); $null = [IO.File]::ReadAllBytes($fileBytes) } } }
        'Export-Clixml / Import-Clixml'            = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Export-Clixml -LiteralPath $fileBytes -InputObject $bytes; $null = Import-Clixml -LiteralPath $fileBytes } } }
        'Breakdown: Write-SharedMemory -Name alone' = @{ Kind = 'Breakdown'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Write-SharedMemory -Name $segBytes.Name -Value $bytes } } }
        'Breakdown: Read-SharedMemory -AsByteArray alone' = @{ Kind = 'Breakdown'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = Read-SharedMemory -Name $segBytes.Name -AsByteArray } } }
        'Breakdown: BlockCopy + new byte[16 MiB] + BlockCopy' = @{ Kind = 'Breakdown'; Note = 'the floor when the result must be a new array'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { [Buffer]::BlockCopy($bytes, 0, $middle, 0, 16MB); $fresh = [byte[]]::new(16MB); [Buffer]::BlockCopy($middle, 0, $fresh, 0, 16MB); $fresh = $null } } }
    }
    Write-SharedMemory -Name $segBytes.Name -Value $bytes
    $back = Read-SharedMemory -Name $segBytes.Name -AsByteArray
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
    $methods = [ordered]@{
        'PSSharedMemory by name'                 = @{ Kind = 'PSSharedMemory'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Write-SharedMemory -Name $segObjects.Name -Value $objects; $null = Read-SharedMemory -Name $segObjects.Name } } }
        'PSSharedMemory segment object'          = @{ Kind = 'PSSharedMemory'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $segObjects | Write-SharedMemory -Value $objects; $null = Read-SharedMemory -InputObject $segObjects } } }
        'Export-Clixml / Import-Clixml'          = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $objects | Export-Clixml -LiteralPath $fileObjects; $null = Import-Clixml -LiteralPath $fileObjects } } }
        'ConvertTo-Json / ConvertFrom-Json file' = @{ Kind = 'Alternative'; Note = 'loses types: When comes back as a string or DateTime by guess, no Deserialized.* names'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { ConvertTo-Json -InputObject $objects | Set-Content -LiteralPath $fileJson; $null = Get-Content -LiteralPath $fileJson -Raw | ConvertFrom-Json } } }
        'Breakdown: [PSSerializer]::Serialize (depth 2)'  = @{ Kind = 'Breakdown'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = [Management.Automation.PSSerializer]::Serialize($objects, 2) } } }
        'Breakdown: [PSSerializer]::DeserializeAsList'    = @{ Kind = 'Breakdown'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = [Management.Automation.PSSerializer]::DeserializeAsList($objectsXml) } } }
        'Breakdown: Write-SharedMemory -Name alone'       = @{ Kind = 'Breakdown'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Write-SharedMemory -Name $segObjects.Name -Value $objects } } }
        'Breakdown: Read-SharedMemory -Name alone'        = @{ Kind = 'Breakdown'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = Read-SharedMemory -Name $segObjects.Name } } }
    }
    $objectsXml = [Management.Automation.PSSerializer]::Serialize($objects, 2)

    # Fidelity: the same properties, values and type names after the trip, for PSSharedMemory and for Clixml.
    function Test-Fidelity([object[]] $Back, [string] $Via) {
        $problems = [Collections.Generic.List[string]]::new()
        if ($Back.Count -ne $objects.Count) { $problems.Add("$Via returned $($Back.Count) objects, not $($objects.Count)") }
        for ($k = 0; $k -lt [math]::Min($Back.Count, $objects.Count) -and $problems.Count -lt 5; $k++) {
            $a = $objects[$k]; $b = $Back[$k]
            $namesA = @($a.psobject.Properties.Name); $namesB = @($b.psobject.Properties.Name)
            if (($namesA -join ',') -cne ($namesB -join ',')) { $problems.Add("$Via object $k has properties $($namesB -join ','), not $($namesA -join ',')"); continue }
            foreach ($p in $namesA) {
                $va = $a.$p; $vb = $b.$p
                if ($va.GetType() -ne $vb.GetType() -or $va -ne $vb -or ($va -is [datetime] -and $va.Kind -ne $vb.Kind)) {
                    $problems.Add("$Via object $k property $p is $vb [$($vb.GetType().Name)], not $va [$($va.GetType().Name)]")
                }
            }
            $types = $b.pstypenames -join ','
            if ($types -cne 'Deserialized.System.Management.Automation.PSCustomObject,Deserialized.System.Object') {
                $problems.Add("$Via object $k has type names $types")
            }
        }
        Write-Output -NoEnumerate $problems
    }

    Write-SharedMemory -Name $segObjects.Name -Value $objects
    $viaShm = @(Read-SharedMemory -Name $segObjects.Name)
    $objects | Export-Clixml -LiteralPath $fileObjects
    $viaClixml = @(Import-Clixml -LiteralPath $fileObjects)
    $fidelity = [ordered]@{
        PSSharedMemory = Test-Fidelity $viaShm 'PSSharedMemory'
        Clixml         = Test-Fidelity $viaClixml 'Clixml'
    }
    $typeNamesSame = ($viaShm[0].pstypenames -join ',') -ceq ($viaClixml[0].pstypenames -join ',')
    foreach ($entry in $fidelity.GetEnumerator()) {
        if ($entry.Value.Count) { Write-Warning "Fidelity ($($entry.Key)): $($entry.Value -join '; ')" }
    }
    Invoke-Case -Case '1000 PSCustomObjects (5 properties)' -Methods $methods -Inner 1 -Samples $plan.BigSamples -Warmup $plan.BigWarmup

    # ---------------------------------------------------------------- Get-Process objects
    $processes = @(Get-Process | Select-Object -First 50)
    $processCase = "$($processes.Count) Get-Process objects"
    $segProcesses = New-BenchSegment 'processes' 256MB
    $fileProcesses = Join-Path $fileDir 'processes.xml'
    $fileProcessJson = Join-Path $fileDir 'processes.json'
    $methods = [ordered]@{
        'PSSharedMemory by name'                 = @{ Kind = 'PSSharedMemory'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { Write-SharedMemory -Name $segProcesses.Name -Value $processes; $null = Read-SharedMemory -Name $segProcesses.Name } } }
        'PSSharedMemory segment object'          = @{ Kind = 'PSSharedMemory'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $segProcesses | Write-SharedMemory -Value $processes; $null = Read-SharedMemory -InputObject $segProcesses } } }
        'Export-Clixml / Import-Clixml'          = @{ Kind = 'Alternative'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $processes | Export-Clixml -LiteralPath $fileProcesses; $null = Import-Clixml -LiteralPath $fileProcesses } } }
        'ConvertTo-Json / ConvertFrom-Json file' = @{ Kind = 'Alternative'; Note = 'default -Depth 2, truncated'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { ConvertTo-Json -InputObject $processes -WarningAction SilentlyContinue | Set-Content -LiteralPath $fileProcessJson; $null = Get-Content -LiteralPath $fileProcessJson -Raw | ConvertFrom-Json } } }
        'Breakdown: [PSSerializer]::Serialize (depth 2)' = @{ Kind = 'Breakdown'; Body = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = [Management.Automation.PSSerializer]::Serialize($processes, 2) } } }
    }
    Invoke-Case -Case $processCase -Methods $methods -Inner 1 -Samples $plan.BigSamples -Warmup $plan.BigWarmup
    $processPayload = (Get-SharedMemory -Name $segProcesses.Name).Length

    # ---------------------------------------------------------------- cross-process latency
    Write-Host '  Cross-process: write in one pwsh, the wait returns in another' -ForegroundColor Cyan
    $peer = Join-Path $PSScriptRoot 'CrossProcessPeer.ps1'
    $rounds = $plan.CrossRounds

    # PSSharedMemory: the peer writes every 2 ms; this process waits in Read-SharedMemory -Wait.
    $segCross = New-BenchSegment 'cross' 4KB
    $child = Start-Process -FilePath $PwshPath -PassThru -NoNewWindow -ArgumentList @(
        '-NoProfile', '-NonInteractive', '-File', $peer, '-Mode', 'SharedMemory', '-Name', $segCross.Name, '-Rounds', $rounds, '-ModulePath', $ModulePath)
    $shmLatency = [Collections.Generic.List[double]]::new()
    $timeout = 30
    while ($shmLatency.Count -lt $rounds) {
        $value = Read-SharedMemory -Name $segCross.Name -Wait -Timeout $timeout -ErrorAction SilentlyContinue -ErrorVariable waitError
        $now = [Diagnostics.Stopwatch]::GetTimestamp()
        if ($waitError) { break }
        $timeout = 5
        if ($value -match '^\d+$') { $shmLatency.Add(($now - [long]$value) * $tickToMicroseconds) }
    }
    $null = $child.WaitForExit(30000)
    if ($shmLatency.Count -lt $rounds * 0.9) { Write-Warning "Only $($shmLatency.Count) of $rounds cross-process writes were seen." }

    # Named pipe, one way: the peer writes a line every 2 ms; this process waits in ReadLine.
    $pipeOneWay = [Collections.Generic.List[double]]::new()
    $pipeRoundTrip = [Collections.Generic.List[double]]::new()
    foreach ($mode in 'PipeOneWay', 'PipeRoundTrip') {
        $pipeName = "pssm-bench-$runId-$mode"
        $server = [IO.Pipes.NamedPipeServerStream]::new($pipeName, [IO.Pipes.PipeDirection]::InOut, 1)
        try {
            $child = Start-Process -FilePath $PwshPath -PassThru -NoNewWindow -ArgumentList @(
                '-NoProfile', '-NonInteractive', '-File', $peer, '-Mode', $mode, '-Name', $pipeName, '-Rounds', $rounds)
            $server.WaitForConnectionAsync().Wait(30000) | Out-Null
            if (-not $server.IsConnected) { throw "The pipe peer did not connect ($mode)." }
            $reader = [IO.StreamReader]::new($server)
            $writer = [IO.StreamWriter]::new($server)
            $writer.AutoFlush = $true
            if ($mode -eq 'PipeOneWay') {
                while ($true) {
                    $line = $reader.ReadLine()
                    $now = [Diagnostics.Stopwatch]::GetTimestamp()
                    if ($null -eq $line -or $line -eq 'end') { break }
                    if ($line -match '^\d+$') { $pipeOneWay.Add(($now - [long]$line) * $tickToMicroseconds) }
                }
            }
            else {
                for ($i = 0; $i -lt $rounds + 50; $i++) {
                    $t0 = [Diagnostics.Stopwatch]::GetTimestamp()
                    $writer.WriteLine('ping')
                    $null = $reader.ReadLine()
                    if ($i -ge 50) { $pipeRoundTrip.Add(([Diagnostics.Stopwatch]::GetTimestamp() - $t0) * $tickToMicroseconds) }
                }
                $writer.WriteLine('end')
            }
            $null = $child.WaitForExit(30000)
        }
        finally {
            $server.Dispose()
        }
    }

    $crossRows = @(
        [pscustomobject]@{ Method = 'PSSharedMemory: Write-SharedMemory -> Read-SharedMemory -Wait returns'; Samples = $shmLatency.Count; Median = (Get-Median $shmLatency); P99 = (Get-Percentile $shmLatency 0.99) }
        [pscustomobject]@{ Method = 'Named pipe: WriteLine -> ReadLine returns (one way)'; Samples = $pipeOneWay.Count; Median = (Get-Median $pipeOneWay); P99 = (Get-Percentile $pipeOneWay 0.99) }
        [pscustomobject]@{ Method = 'Named pipe: round trip (WriteLine, peer answers, ReadLine)'; Samples = $pipeRoundTrip.Count; Median = (Get-Median $pipeRoundTrip); P99 = (Get-Percentile $pipeRoundTrip 0.99) }
    )
    foreach ($row in $crossRows) {
        $row | Add-Member -NotePropertyName Ratio -NotePropertyValue ($row.Median / $crossRows[0].Median)
        Write-Host ("    {0,-72} median {1,10} p99 {2,10}" -f $row.Method, (Format-Time $row.Median), (Format-Time $row.P99))
    }
}
finally {
    foreach ($name in $segments) { Remove-SharedMemory -Name $name -ErrorAction SilentlyContinue -Confirm:$false }
    Remove-Item -LiteralPath $fileDir -Recurse -Force -ErrorAction SilentlyContinue
}

# -------------------------------------------------------------------- report
function Format-Ratio([double] $Ratio) { if ($Ratio -ge 10) { '{0:N0}×' -f $Ratio } else { '{0:N2}×' -f $Ratio } }

$lines = [Collections.Generic.List[string]]::new()
foreach ($caseName in @($results | ForEach-Object Case | Select-Object -Unique)) {
    $group = @{ Name = $caseName; Group = @($results | Where-Object Case -EQ $caseName) }
    $lines.Add('')
    $first = $group.Group[0]
    $lines.Add("#### $($group.Name)  (median of $($first.Samples) samples of $($first.Inner) operation(s); ratio = method / PSSharedMemory by name)")
    $lines.Add('')
    $lines.Add('| Method | Median | Ratio |')
    $lines.Add('|---|---:|---:|')
    foreach ($row in $group.Group) {
        $note = if ($row.Note) { " ($($row.Note))" } else { '' }
        $lines.Add("| $($row.Method)$note | $(Format-Time $row.MedianMicroseconds) | $(Format-Ratio $row.Ratio) |")
    }
}
$lines.Add('')
$lines.Add("#### Cross-process latency ($rounds writes, one every 2 ms; ratio = method / PSSharedMemory)")
$lines.Add('')
$lines.Add('| Method | Samples | Median | p99 | Ratio (median) |')
$lines.Add('|---|---:|---:|---:|---:|')
foreach ($row in $crossRows) {
    $lines.Add("| $($row.Method) | $($row.Samples) | $(Format-Time $row.Median) | $(Format-Time $row.P99) | $(Format-Ratio $row.Ratio) |")
}
$lines.Add('')
$lines.Add('Fidelity after the round trip of the 1000 PSCustomObjects (properties, values and their types, Deserialized.* type names):')
foreach ($entry in $fidelity.GetEnumerator()) {
    $verdict = if ($entry.Value.Count -eq 0) { 'identical' } else { 'DIFFERS: ' + ($entry.Value -join '; ') }
    $lines.Add("- $($entry.Key): $verdict")
}
$lines.Add("- Type names of PSSharedMemory and Clixml copies are $(if ($typeNamesSame) { 'the same' } else { 'DIFFERENT' }): $($viaShm[0].pstypenames -join ', ')")
$lines.Add("- $processCase serialize to $processPayload bytes in the segment.")
$comparison = $lines -join "`n"

# Goals: each ratio is from the tables above.
function Get-Row([string] $Case, [string] $Method) { $results | Where-Object { $_.Case -eq $Case -and $_.Method -eq $Method } | Select-Object -First 1 }
$shm100 = Get-Row '100-byte string' 'PSSharedMemory by name'
$floor100 = Get-Row '100-byte string' 'Floor: Write-Output -InputObject, twice'
$content100 = Get-Row '100-byte string' 'Set-Content / Get-Content -Raw'
$shmBytes = Get-Row '16 MiB of bytes' 'PSSharedMemory by name'
$floorBytes = Get-Row '16 MiB of bytes' 'Floor: [Buffer]::BlockCopy 16 MiB, twice'
$fileBytesRow = Get-Row '16 MiB of bytes' '[IO.File]::WriteAllBytes / ReadAllBytes'
$shmObjects = Get-Row '1000 PSCustomObjects (5 properties)' 'PSSharedMemory by name'
$clixmlObjects = Get-Row '1000 PSCustomObjects (5 properties)' 'Export-Clixml / Import-Clixml'
$fidelityOk = $fidelity.PSSharedMemory.Count -eq 0 -and $fidelity.Clixml.Count -eq 0 -and $typeNamesSame

$goals = [Collections.Generic.List[object]]::new()
function Add-Goal([string] $Goal, [string] $Measured, [bool] $Met) {
    $goals.Add([pscustomobject]@{ Goal = $Goal; Measured = $Measured; Met = $(if ($Met) { 'met' } else { 'NOT met' }) })
}
$r = $shm100.MedianMicroseconds / $floor100.MedianMicroseconds
Add-Goal '100-byte string by name: ≤ 3× two trivial cmdlet calls' ('{0:N2}× ({1} vs {2})' -f $r, (Format-Time $shm100.MedianMicroseconds), (Format-Time $floor100.MedianMicroseconds)) ($r -le 3)
$r = $content100.MedianMicroseconds / $shm100.MedianMicroseconds
Add-Goal '100-byte string: ≥ 15× faster than Set-Content/Get-Content' ('{0:N1}× faster' -f $r) ($r -ge 15)
$r = $shmBytes.MedianMicroseconds / $floorBytes.MedianMicroseconds
Add-Goal '16 MiB bytes: ≤ 3× two 16 MiB memcpy' ('{0:N2}× ({1} vs {2})' -f $r, (Format-Time $shmBytes.MedianMicroseconds), (Format-Time $floorBytes.MedianMicroseconds)) ($r -le 3)
$r = $fileBytesRow.MedianMicroseconds / $shmBytes.MedianMicroseconds
Add-Goal '16 MiB bytes: ≥ 5× faster than WriteAllBytes/ReadAllBytes' ('{0:N2}× faster' -f $r) ($r -ge 5)
$r = $clixmlObjects.MedianMicroseconds / $shmObjects.MedianMicroseconds
Add-Goal '1000 PSCustomObjects: ≥ 2× faster than Export/Import-Clixml, same fidelity' ('{0:N2}× faster; fidelity {1}' -f $r, $(if ($fidelityOk) { 'same' } else { 'differs' })) ($r -ge 2 -and $fidelityOk)
Add-Goal 'Cmdlets cross-process wake-up: median < 200 µs' ('median {0}, p99 {1}' -f (Format-Time $crossRows[0].Median), (Format-Time $crossRows[0].P99)) ($crossRows[0].Median -lt 200)

# Engine goals, from the BenchmarkDotNet CSV files and the ping-pong JSON of the same run.
$engineSection = ''
if ($EngineResultsPath -and (Test-Path -LiteralPath $EngineResultsPath)) {
    function Read-EngineCsv([string] $Pattern) {
        $file = Get-ChildItem -LiteralPath $EngineResultsPath -Filter $Pattern | Select-Object -First 1
        if ($file) { Import-Csv -LiteralPath $file.FullName -Delimiter ';' }
    }
    function ConvertTo-Nanoseconds([string] $Cell) { [double]($Cell -replace ',', '') }

    $lockRows = Read-EngineCsv '*LockBenchmarks-report.csv'
    $roundRows = Read-EngineCsv '*RoundTripBenchmarks-report.csv'
    $pingJson = Join-Path $EngineResultsPath 'pingpong.json'
    if ($lockRows) {
        $lock = $lockRows | Where-Object Method -EQ "'Lock()+Unlock()'" | Select-Object -First 1
        if (-not $lock) { $lock = $lockRows | Where-Object Method -Like '*Lock()+Unlock()*' | Select-Object -First 1 }
        $ns = ConvertTo-Nanoseconds $lock.'Median [ns]'
        Add-Goal 'Engine uncontended Lock+Unlock ≤ 2 µs' ('{0:N2} µs median' -f ($ns / 1000)) ($ns -le 2000)
    }
    if ($roundRows) {
        $r64 = @($roundRows | Where-Object Size -EQ '64')
        $wr = ConvertTo-Nanoseconds ($r64 | Where-Object Method -Like '*Write+Read*' | Where-Object Method -NotLike '*Into*').'Median [ns]'
        $ml = ConvertTo-Nanoseconds ($r64 | Where-Object Method -Like '*memcpy + Lock*').'Median [ns]'
        Add-Goal 'Engine 64-byte Write+Read (kept open): ≤ 2× memcpy plus the lock' ('{0:N2}× ({1:N0} ns vs {2:N0} ns)' -f ($wr / $ml), $wr, $ml) (($wr / $ml) -le 2)
    }
    if (Test-Path -LiteralPath $pingJson) {
        $ping = Get-Content -LiteralPath $pingJson -Raw | ConvertFrom-Json
        $oneWay = $ping.Results | Where-Object Name -Like 'shared memory*one way' | Select-Object -First 1
        Add-Goal 'Engine cross-process wake-up: median < 50 µs' ('median {0:N1} µs, p99 {1:N1} µs' -f $oneWay.Median, $oneWay.P99) ($oneWay.Median -lt 50)
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
    $engineSection = $engineLines -join "`n"
}

$goalLines = @('| Goal | Measured (this run) | Status |', '|---|---|---|') + @($goals | ForEach-Object { "| $($_.Goal) | $($_.Measured) | $($_.Met) |" })
$goalText = $goalLines -join "`n"

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
    $report = @"
# PSSharedMemory benchmarks, $(Get-Date -Format 'yyyy-MM-dd')

Figures are medians from one run on a shared, noisy machine; compare the ratios (measured in the same run), not the absolute times.
Run: ``bench/Invoke-Benchmarks.ps1$(if ($Quick) { ' -Quick' })`` (PSSharedMemory $moduleVersion).

## Machine

- CPUs (nproc): $nproc; CPU: $cpu; $memory
- OS: $os, $([Runtime.InteropServices.RuntimeInformation]::OSArchitecture)
- PowerShell $($PSVersionTable.PSVersion), .NET $([Environment]::Version)
- Date: $(Get-Date -Format 'yyyy-MM-dd HH:mm K')
- Files of the alternatives: $fileRoot (tmpfs on Linux, like the segments)

## Goals

$goalText

## PowerShell: PSSharedMemory against the alternatives
$comparison

## Engine (BenchmarkDotNet$(if ($Quick) { ', quick job: 5 iterations of 100 ms, in process' } else { '' }))
$(if ($engineSection) { $engineSection } else { "`n(not run)" })
"@
    $null = New-Item -ItemType Directory -Path (Split-Path -Parent $ReportPath) -Force
    Set-Content -LiteralPath $ReportPath -Value $report -Encoding utf8NoBOM
    Write-Host "Report: $ReportPath"
}
