# Wait-SharedMemory: one wait on several segments, ended by writes of other processes. Processes and
# runspaces are ordered by handshakes (the waiter counts in the segments' headers, versions), never by sleeps.
BeforeAll {
    . $PSScriptRoot/common.ps1

    function New-WaitSegments([int] $Count = 3) {
        # Count new, empty segments (version 0); returns their names.
        foreach ($i in 1..$Count) {
            $name = New-TestSegmentName 'wait'
            $null = New-SharedMemory -Name $name -Size 1KB
            $name
        }
    }

    function Start-WaitingSession {
        <#
            A runspace of this process (a session of its own) that runs Script with $Names, $Results (a
            BlockingCollection that the script adds to) and the module imported.
        #>
        param([Parameter(Mandatory)] [string[]] $Names, [Parameter(Mandatory)] [scriptblock] $Script)
        $results = [System.Collections.Concurrent.BlockingCollection[object]]::new()
        $ps = [powershell]::Create()
        $null = $ps.AddScript("param(`$Names, `$Results) `$ErrorActionPreference = 'Stop'; Import-Module '$script:ModuleManifest'; . { $Script }").
            AddArgument($Names).AddArgument($results)
        [pscustomobject]@{ PowerShell = $ps; Async = $ps.BeginInvoke(); Results = $results }
    }

    function Receive-SessionResult($Session) {
        # The next result the session adds, within a generous minute; the session's failure if it ended instead.
        $result = $null
        $deadline = [datetime]::UtcNow.AddSeconds(60)
        while (-not $Session.Results.TryTake([ref] $result, 100)) {
            if ($Session.Async.IsCompleted) {
                $Session.PowerShell.EndInvoke($Session.Async)
                throw "The waiting session ended without a result. $($Session.PowerShell.Streams.Error)"
            }
            if ([datetime]::UtcNow -gt $deadline) { throw 'The waiting session gave no result within 60 seconds.' }
        }
        $result
    }

    function Wait-Counted([string[]] $Names, $Session) {
        # The handshake: every segment counts the session's wait, which has therefore begun.
        foreach ($name in $Names) { Wait-SegmentWaiter -Name $name -Word Change -Abandon { $Session.Async.IsCompleted } }
    }

    function ConvertTo-Milliseconds([long] $Ticks) { $Ticks * 1000.0 / [System.Diagnostics.Stopwatch]::Frequency }
}

AfterAll {
    Get-SharedMemory 'wait-*' | Where-Object Name -Match '^wait-[0-9a-f]{12}' | Remove-SharedMemory -Confirm:$false
}

Describe 'Wait-SharedMemory' {
    It 'returns the segment that another process writes, for each of three names in turn' {
        $names = @(New-WaitSegments 3)
        $control = New-TestSegmentName 'wait'
        $null = New-SharedMemory -Name $control -Size 1KB
        $order = 0, 1, 2, 2, 0, 1, 1, 2, 0

        # The writer writes the name the control segment says, each time the control's version goes up,
        # and stores the monotonic clock's reading taken just before the write.
        $writer = Start-ChildPwsh -Script @"
`$names = '$($names -join "', '")'
`$version = (Get-SharedMemory '$control').Version
'ready' | Write-SharedMemory '$control-ready'
for (`$i = 0; `$i -lt $($order.Count); `$i++) {
    `$target = [int](Read-SharedMemory '$control' -NewerThan `$version -Timeout 60)
    `$version++
    Write-SharedMemory -Name `$names[`$target] -Value ([System.Diagnostics.Stopwatch]::GetTimestamp())
}
"@
        $null = Read-SharedMemory "$control-ready" -NewerThan 0 -Timeout 60
        $session = Start-WaitingSession -Names $names -Script {
            foreach ($round in 1..9) {
                $changed = @(Wait-SharedMemory -Name $Names -Timeout 30)
                $Results.Add([pscustomobject]@{ At = [System.Diagnostics.Stopwatch]::GetTimestamp(); Names = @($changed.Name); Versions = @($changed.Version) })
            }
        }
        try {
            $latencies = foreach ($target in $order) {
                Wait-Counted $names $session
                Write-SharedMemory $control "$target"
                $result = Receive-SessionResult $session
                $result.Names | Should -Be @($names[$target])
                $result.Versions | Should -Be @((Get-SharedMemory $names[$target]).Version)
                $elapsed = ConvertTo-Milliseconds ($result.At - [long](Read-SharedMemory $names[$target]))
                $elapsed | Should -BeLessThan 10000 -Because 'the wait ends when the write wakes it, long before its 30 s timeout'
                $elapsed
            }
            Wait-ChildPwsh -Process $writer | Out-Null
            $sorted = $latencies | Sort-Object
            Write-Host ("    Wait-SharedMemory, from another process's write to the return, ms: {0}; median {1:0.00}" -f (($latencies | ForEach-Object { $_.ToString('0.00') }) -join ', '), $sorted[[int][math]::Floor($sorted.Count / 2)])
        }
        finally {
            $session.PowerShell.Stop()
            $session.PowerShell.Dispose()
            if (-not $writer.HasExited) { $writer.Kill() }
        }
    }

    It 'returns at once, in the order given, the segments already newer than this session saw, and waits past what it returned' {
        $a, $b, $c = New-WaitSegments 3
        # The first wait of the session keeps each segment's version as seen: the writes after it are new.
        { Wait-SharedMemory $a, $b, $c -Timeout 0.2 -ErrorAction Stop } | Should -Throw -ErrorId 'WaitTimeout,PSSharedMemory.Commands.WaitSharedMemoryCommand'
        $null = Invoke-ChildPwsh -Script "Write-SharedMemory '$c' 'c1'; Write-SharedMemory '$b' 'b1'"

        $changed = Wait-SharedMemory -Name $a, $b, $c -Timeout 0
        $changed.Name | Should -Be $b, $c
        $changed | Should -BeOfType PSSharedMemory.SharedMemoryInfo
        $changed.Version | Should -Be 1, 1

        # What it returned counts as seen, read or not: the next wait waits for something newer.
        { Wait-SharedMemory $a, $b, $c -Timeout 0.2 -ErrorAction Stop } | Should -Throw -ErrorId 'WaitTimeout,PSSharedMemory.Commands.WaitSharedMemoryCommand'
        $null = Invoke-ChildPwsh -Script "Write-SharedMemory '$c' 'c2'"
        Wait-SharedMemory $a, $b, $c -Timeout 0 | Read-SharedMemory | Should -Be 'c2'
    }

    It 'misses no write that lands between two waits of a loop' {
        $names = @(New-WaitSegments 3)
        $seen = [System.Collections.Generic.List[string]]::new()
        $null = Wait-SharedMemory $names -Timeout 0 -ErrorAction SilentlyContinue
        for ($round = 1; $round -le 6; $round++) {
            # Between two waits, another process writes two of the three.
            $first, $second = $names[$round % 3], $names[($round + 1) % 3]
            $null = Invoke-ChildPwsh -Script "Write-SharedMemory '$first' 'r$round'; Write-SharedMemory '$second' 'r$round'"
            Wait-SharedMemory $names -Timeout 5 | Read-SharedMemory | ForEach-Object { $seen.Add($_) }
        }
        $seen.Count | Should -Be 12
        $seen | Select-Object -Unique | Should -Be ('r1', 'r2', 'r3', 'r4', 'r5', 'r6')
    }

    It 'waits past the Version of piped segment objects' {
        $a, $b = New-WaitSegments 2
        $segments = Get-SharedMemory $a, $b
        # This session's own write still counts: the objects say which version to wait past.
        Write-SharedMemory $b 'after the objects were taken'
        $changed = $segments | Wait-SharedMemory -Timeout 5
        $changed.Name | Should -Be $b
        $changed.Version | Should -Be 1
        { $changed, (Get-SharedMemory $a) | Wait-SharedMemory -Timeout 0.2 -ErrorAction Stop } | Should -Throw -ErrorId 'WaitTimeout,PSSharedMemory.Commands.WaitSharedMemoryCommand'
    }

    It 'waits for a segment that does not exist yet to be created and written' {
        $existing = @(New-WaitSegments 1)
        $missing = New-TestSegmentName 'wait'
        $session = Start-WaitingSession -Names @($existing + $missing) -Script {
            $changed = Wait-SharedMemory -Name $Names -Timeout 60
            $Results.Add(@($changed.Name))
        }
        try {
            Wait-Counted $existing $session
            # Created and written at once: a wait that took the new segment's version as seen would miss it.
            $null = Invoke-ChildPwsh -Script "Write-SharedMemory '$missing' 'born'"
            Receive-SessionResult $session | Should -Be $missing
        }
        finally {
            $session.PowerShell.Dispose()
        }
    }

    It 'ends with a SharedMemoryRemoved error when another process removes a segment it waits on' {
        $names = @(New-WaitSegments 2)
        $session = Start-WaitingSession -Names $names -Script {
            try { $null = Wait-SharedMemory -Name $Names -Timeout 60 -ErrorAction Stop; $Results.Add('returned') }
            catch { $Results.Add(@($_.FullyQualifiedErrorId, $_.CategoryInfo.Category.ToString(), $_.TargetObject)) }
        }
        try {
            Wait-Counted $names $session
            $null = Invoke-ChildPwsh -Script "Remove-SharedMemory '$($names[1])'"
            Receive-SessionResult $session | Should -Be 'SharedMemoryRemoved,PSSharedMemory.Commands.WaitSharedMemoryCommand', 'ObjectNotFound', $names[1]
        }
        finally {
            $session.PowerShell.Dispose()
        }
    }

    It 'fails with WaitTimeout, naming every segment, when nothing changes in time' {
        $a, $b = New-WaitSegments 2
        $missing = New-TestSegmentName 'wait'
        $err = try { Wait-SharedMemory $a, $b, $missing -Timeout 0.3 -ErrorAction Stop } catch { $_ }
        $err.FullyQualifiedErrorId | Should -Be 'WaitTimeout,PSSharedMemory.Commands.WaitSharedMemoryCommand'
        $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
        $err.Exception.Message | Should -Be "None of the segments '$a', '$b' and '$missing' changed within 0.3 seconds. '$missing' was not created and written."
        $err.TargetObject | Should -Be $a, $b, $missing

        $err = try { Wait-SharedMemory $missing -Timeout 0.1 -ErrorAction Stop } catch { $_ }
        $err.FullyQualifiedErrorId | Should -Be 'WaitTimeout,PSSharedMemory.Commands.WaitSharedMemoryCommand'
        $err.Exception.Message | Should -Be "Segment '$missing' was not created and written within 0.1 seconds."
    }

    It 'reports a name that is not valid, and waits on the others' {
        $a = New-WaitSegments 1
        $null = Wait-SharedMemory $a -Timeout 0 -ErrorAction SilentlyContinue
        $null = Invoke-ChildPwsh -Script "Write-SharedMemory '$a' 'x'"
        $changed = Wait-SharedMemory 'not a name', $a -Timeout 0 -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed.FullyQualifiedErrorId | Should -Be 'InvalidSharedMemoryName,PSSharedMemory.Commands.WaitSharedMemoryCommand'
        $failed.TargetObject | Should -Be 'not a name'
        $changed.Name | Should -Be $a
    }

    It 'ends at once when stopped (Ctrl+C)' {
        $names = @(New-WaitSegments 3)
        $session = Start-WaitingSession -Names $names -Script { $null = Wait-SharedMemory -Name $Names }
        try {
            Wait-Counted $names $session
            $stopwatch = [System.Diagnostics.Stopwatch]::StartNew()
            $session.PowerShell.Stop()
            $stopwatch.Elapsed.TotalSeconds | Should -BeLessThan 10
            $session.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
            Write-Host ('    Wait-SharedMemory stopped {0:0.0} ms after Stop()' -f $stopwatch.Elapsed.TotalMilliseconds)
            foreach ($name in $names) { Get-SegmentWaiterCount -Name $name -Word Change | Should -Be 0 }
        }
        finally {
            $session.PowerShell.Dispose()
        }
    }
}
