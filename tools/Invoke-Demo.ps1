<#
.SYNOPSIS
    Two pwsh processes hand a string, a set of objects and a binary file to each other through shared memory.

.DESCRIPTION
    The reader process creates three segments and waits (Read-SharedMemory -Wait) for each; the writer
    process writes a string, five objects and a 256 KiB binary file. The reader checks what arrived
    (the file by SHA-256) and reports it. Prints what crossed and how long each step took; exits 1 when a
    check fails. Called by build.ps1 -Task Demo.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $PwshPath
)

$ErrorActionPreference = 'Stop'
$manifest = Join-Path $ModulePath 'PSSharedMemory.psd1'
$prefix = "demo-$PID-$([guid]::NewGuid().ToString('N').Substring(0, 6))"
$work = Join-Path ([IO.Path]::GetTempPath()) $prefix
$null = New-Item -ItemType Directory -Path $work
$sourceFile = Join-Path $work 'source.bin'
$copyFile = Join-Path $work 'copy.bin'
$random = [byte[]]::new(256KB)
[Random]::new(42).NextBytes($random)
[IO.File]::WriteAllBytes($sourceFile, $random)
$sourceHash = (Get-FileHash -LiteralPath $sourceFile -Algorithm SHA256).Hash

$readerScript = @'
param($Manifest, $Prefix, $CopyFile)
$ErrorActionPreference = 'Stop'
Import-Module $Manifest
function Step([string] $Name, [scriptblock] $Body) {
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $result = & $Body
    [pscustomobject]@{ Step = $Name; Milliseconds = [math]::Round($watch.Elapsed.TotalMilliseconds, 1); Result = $result }
}
# Create the segments first: a piped segment object waits for any version after the one it saw (0),
# so a write that lands before the wait begins is not missed.
$text = New-SharedMemory -Name "$Prefix-text" -Size 4KB
$objects = New-SharedMemory -Name "$Prefix-objects" -Size 64KB
$file = New-SharedMemory -Name "$Prefix-file" -Size 1MB
'ready' | Write-SharedMemory -Name "$Prefix-ready"
$steps = @(
    Step 'wait+read text' { $t = $text | Read-SharedMemory -Wait -Timeout 30; @{ Value = $t; Type = $t.GetType().FullName } }
    Step 'wait+read objects' { $o = @($objects | Read-SharedMemory -Wait -Timeout 30); @{ Count = $o.Count; Names = ($o.Name -join ','); Sum = ($o | Measure-Object -Property Id -Sum).Sum } }
    Step 'wait+read file' { $file | Read-SharedMemory -Wait -Timeout 30 -OutFile $CopyFile; @{ Hash = (Get-FileHash -LiteralPath $CopyFile -Algorithm SHA256).Hash; Length = (Get-Item -LiteralPath $CopyFile).Length } }
)
$steps | ConvertTo-Json -Depth 4 -Compress
'@

$writerScript = @'
param($Manifest, $Prefix, $SourceFile)
$ErrorActionPreference = 'Stop'
Import-Module $Manifest
function Step([string] $Name, [scriptblock] $Body) {
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $null = & $Body
    [pscustomobject]@{ Step = $Name; Milliseconds = [math]::Round($watch.Elapsed.TotalMilliseconds, 1) }
}
# The reader creates the segments, then says it is ready.
$deadline = [datetime]::UtcNow.AddSeconds(30)
while (-not (Get-SharedMemory -Name "$Prefix-ready" -ErrorAction SilentlyContinue | Where-Object Version -GE 1)) {
    if ([datetime]::UtcNow -gt $deadline) { throw 'The reader did not get ready within 30 seconds.' }
    Start-Sleep -Milliseconds 20
}
$steps = @(
    Step 'write text' { "Hello from process $PID" | Write-SharedMemory -Name "$Prefix-text" }
    Step 'write objects' { 1..5 | ForEach-Object { [pscustomobject]@{ Name = "item$_"; Id = $_; At = [datetime]::UtcNow } } | Write-SharedMemory -Name "$Prefix-objects" }
    Step 'write file' { Write-SharedMemory -Name "$Prefix-file" -LiteralPath $SourceFile }
)
$steps | ConvertTo-Json -Compress
'@

function Start-DemoProcess([string] $Script, [object[]] $Arguments) {
    $info = [Diagnostics.ProcessStartInfo]::new($PwshPath)
    foreach ($argument in @('-NoProfile', '-NonInteractive', '-Command', "& { $Script } @args") + $Arguments) { $info.ArgumentList.Add([string]$argument) }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.UseShellExecute = $false
    $process = [Diagnostics.Process]::Start($info)
    $process | Add-Member -NotePropertyName StdOut -NotePropertyValue $process.StandardOutput.ReadToEndAsync()
    $process | Add-Member -NotePropertyName StdErr -NotePropertyValue $process.StandardError.ReadToEndAsync()
    $process
}

function Wait-DemoProcess($Process, [string] $Role) {
    if (-not $Process.WaitForExit(45000)) {
        $Process.Kill($true)
        throw "The $Role process did not finish within 45 seconds."
    }
    $Process.WaitForExit()
    if ($Process.ExitCode -ne 0) {
        throw "The $Role process failed (exit $($Process.ExitCode)): $($Process.StdErr.Result) $($Process.StdOut.Result)"
    }
    ($Process.StdOut.Result -split '\r?\n' | Where-Object { $_ -like '[[{]*' } | Select-Object -Last 1) | ConvertFrom-Json
}

$failures = [Collections.Generic.List[string]]::new()
$total = [Diagnostics.Stopwatch]::StartNew()
try {
    Write-Host "PSSharedMemory demo: segments $prefix-*" -ForegroundColor Cyan
    $reader = Start-DemoProcess $readerScript @($manifest, $prefix, $copyFile)
    $writer = Start-DemoProcess $writerScript @($manifest, $prefix, $sourceFile)
    Write-Host "reader pid $($reader.Id) waits; writer pid $($writer.Id) writes"
    $written = Wait-DemoProcess $writer 'writer'
    $read = Wait-DemoProcess $reader 'reader'

    foreach ($step in $written) { Write-Host ('  writer  {0,-18} {1,8:N1} ms' -f $step.Step, $step.Milliseconds) }
    foreach ($step in $read) { Write-Host ('  reader  {0,-18} {1,8:N1} ms' -f $step.Step, $step.Milliseconds) }

    $text = $read | Where-Object Step -EQ 'wait+read text'
    $objects = $read | Where-Object Step -EQ 'wait+read objects'
    $file = $read | Where-Object Step -EQ 'wait+read file'
    Write-Host "text    : '$($text.Result.Value)' as [$($text.Result.Type)]"
    Write-Host "objects : $($objects.Result.Count) objects, names $($objects.Result.Names), sum of Id $($objects.Result.Sum)"
    Write-Host "file    : $($file.Result.Length) bytes, SHA-256 $($file.Result.Hash)"

    if ($text.Result.Value -notmatch '^Hello from process \d+$' -or $text.Result.Type -ne 'System.String') { $failures.Add('the text did not arrive as the string written') }
    if ($objects.Result.Count -ne 5 -or $objects.Result.Names -ne 'item1,item2,item3,item4,item5' -or $objects.Result.Sum -ne 15) { $failures.Add('the objects did not arrive with their shape') }
    if ($file.Result.Hash -ne $sourceHash) { $failures.Add("the file's hash differs: sent $sourceHash") }
}
catch {
    $failures.Add($_.ToString())
}
finally {
    foreach ($process in $reader, $writer) { if ($process -and -not $process.HasExited) { $process.Kill($true) } }
    & $PwshPath -NoProfile -NonInteractive -Command "Import-Module '$manifest'; Get-SharedMemory '$prefix-*' | Remove-SharedMemory -Confirm:`$false"
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}

Write-Host ('total {0:N1} s' -f $total.Elapsed.TotalSeconds)
if ($failures.Count) {
    foreach ($failure in $failures) { Write-Host "FAILED: $failure" -ForegroundColor Red }
    exit 1
}
Write-Host 'All checks passed: text, objects and file crossed between the processes intact.' -ForegroundColor Green
exit 0
