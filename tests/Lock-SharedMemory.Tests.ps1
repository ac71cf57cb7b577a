BeforeAll {
    . $PSScriptRoot/common.ps1

    function Test-LockFree([string] $Name) {
        # True when another runspace (another handle) can take the lock within a few seconds.
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$script:ModuleManifest'; try { Lock-SharedMemory $Name -Timeout 5 -ScriptBlock { 'free' } -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId }")
            ($ps.Invoke() | Select-Object -First 1) -eq 'free'
        }
        finally { $ps.Dispose() }
    }

    function Test-LockHeld([string] $Name) {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$script:ModuleManifest'; try { Lock-SharedMemory $Name -Timeout 0.2 -ScriptBlock { 'free' } -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId }")
            ($ps.Invoke() | Select-Object -First 1) -eq 'LockTimeout,PSSharedMemory.Commands.LockSharedMemoryCommand'
        }
        finally { $ps.Dispose() }
    }
}

Describe 'Lock-SharedMemory' {
    AfterAll {
        Get-SharedMemory 'lock-*' | Where-Object Name -Match '^lock-[0-9a-f]{12}' | Remove-SharedMemory -Confirm:$false
    }

    It 'runs -ScriptBlock under the lock and returns its output' {
        $name = New-TestSegmentName 'lock'
        $out = Lock-SharedMemory -Name $name -ScriptBlock { 'a'; 'b'; Test-LockHeld $name }
        $out | Should -Be 'a', 'b', $true
        Test-LockFree $name | Should -BeTrue
    }

    It 'takes -ScriptBlock by position after the name' {
        $name = New-TestSegmentName 'lock'
        Lock-SharedMemory $name { 1 + 1 } | Should -Be 2
    }

    It 'warns when it takes over a lock whose holder died without releasing it' {
        $name = New-TestSegmentName 'lock'
        $null = New-SharedMemory -Name $name -Size 64
        # The child takes the lock and is killed (SIGKILL on Unix) while it holds it.
        $child = Start-ChildPwsh -Script "Lock-SharedMemory $name; `$PID; [Console]::Out.Flush(); Stop-Process -Id `$PID -Force"
        if (-not $child.WaitForExit(120000)) { $child.Kill(); throw 'The child did not exit.' }
        $childId = [int]($child.StdOutTask.GetAwaiter().GetResult().Trim())

        Lock-SharedMemory $name { 'got it' } -WarningVariable warnings -WarningAction SilentlyContinue | Should -Be 'got it'
        $warnings.Count | Should -Be 1
        "$($warnings[0])" | Should -Match "process $childId, which ended without releasing it"

        # A lock released the normal way draws no warning.
        Lock-SharedMemory $name { 'again' } -WarningVariable quiet -WarningAction SilentlyContinue | Should -Be 'again'
        $quiet.Count | Should -Be 0
    }

    It 'takes -ScriptBlock as the first positional argument when the segment is piped' {
        $name = New-TestSegmentName 'lock'
        $segment = New-SharedMemory -Name $name -Size 64
        $segment | Lock-SharedMemory { Test-LockHeld $name } | Should -BeTrue
        Test-LockFree $name | Should -BeTrue
    }

    It 'creates a missing growable segment of 4 KiB to lock it' {
        $name = New-TestSegmentName 'lock'
        $segment = Lock-SharedMemory $name { Get-SharedMemory $name }
        $segment.Size | Should -Be 4KB
        $segment.IsGrowable | Should -BeTrue
    }

    It 'releases the lock when the block throws, and the error reaches the caller' {
        $name = New-TestSegmentName 'lock'
        { Lock-SharedMemory $name { throw 'boom' } } | Should -Throw 'boom'
        Test-LockFree $name | Should -BeTrue
    }

    It 'passes the block''s non-terminating errors through its own error stream' {
        $name = New-TestSegmentName 'lock'
        $out = Lock-SharedMemory $name { Write-Error 'soft' -ErrorAction Continue; 'after' } -ErrorAction SilentlyContinue -ErrorVariable err
        $out | Should -Be 'after'
        $err[0].Exception.Message | Should -Be 'soft'
    }

    It 'releases the lock when the block is stopped' {
        $name = New-TestSegmentName 'lock'
        $holder = Start-Runspace "Lock-SharedMemory $name { Write-SharedMemory $name 'in block'; Start-Sleep -Seconds 120 }"
        try {
            $deadline = [datetime]::UtcNow.AddSeconds(30)
            while ((Read-SharedMemory $name -ErrorAction SilentlyContinue) -ne 'in block' -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            Test-LockHeld $name | Should -BeTrue
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $holder.PowerShell.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 10
            Test-LockFree $name | Should -BeTrue
        }
        finally { $holder.PowerShell.Dispose() }
    }

    It 'ends a wait for the lock promptly when stopped (Ctrl+C)' {
        $name = New-TestSegmentName 'lock'
        Lock-SharedMemory $name
        try {
            $waiter = Start-Runspace "Lock-SharedMemory $name -Timeout -1 { 'got it' }"
            # The header counts the waiter just before it sleeps: stop only a wait that has begun.
            Wait-SegmentWaiter -Name $name -Word Lock -Abandon { $waiter.Async.IsCompleted }
            # The wait has no timeout: only the stop can end it while this session holds the lock.
            $stopping = $waiter.PowerShell.BeginStop($null, $null)
            $stopping.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(30)) | Should -BeTrue -Because 'a stopped wait ends well within 30 seconds'
            $waiter.PowerShell.EndStop($stopping)
            $waiter.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
        }
        finally {
            Unlock-SharedMemory $name
            $waiter.PowerShell.Dispose()
        }
    }

    It 'fails with LockTimeout when another process holds the lock, then succeeds once it is released' {
        $name = New-TestSegmentName 'lock'
        $null = New-SharedMemory $name
        # The child holds the lock until this test writes 'go' to the release segment, however slow either side is.
        $holder = Start-ChildPwsh -Script "Lock-SharedMemory $name; 'held' | Write-SharedMemory $name; $(Get-WaitForGoScript "$name-release"); Unlock-SharedMemory $name; 'done'"
        try {
            $deadline = [datetime]::UtcNow.AddSeconds(60)
            while ((Read-SharedMemory $name) -ne 'held' -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            { Lock-SharedMemory $name -Timeout 0.1 -ErrorAction Stop } | Should -Throw -ErrorId 'LockTimeout,PSSharedMemory.Commands.LockSharedMemoryCommand'
            Lock-SharedMemory $name -Timeout 0.1 -ErrorAction SilentlyContinue -ErrorVariable err
            $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            $err[0].ErrorDetails.RecommendedAction | Should -Match 'Unlock-SharedMemory'
            ($err[0] | Out-String) | Should -Match 'Unlock-SharedMemory'
            $err[0].Exception.LockHolderProcessId | Should -Be $holder.Id
            'go' | Write-SharedMemory "$name-release"
            Lock-SharedMemory $name -Timeout 60 { 'mine' } | Should -Be 'mine'
            Wait-ChildPwsh -Process $holder | Should -Be 'done'
        }
        finally { Remove-SharedMemory "$name-release" -ErrorAction SilentlyContinue }
    }

    It 'is released when the holding process exits without unlocking' {
        $name = New-TestSegmentName 'lock'
        Invoke-ChildPwsh -Script "Lock-SharedMemory $name; 'exiting'" | Should -Be 'exiting'
        Lock-SharedMemory $name -Timeout 30 { 'free' } | Should -Be 'free'
    }

    It 'without -ScriptBlock holds the lock until Unlock-SharedMemory, across command lines' {
        $name = New-TestSegmentName 'lock'
        Lock-SharedMemory $name | Should -BeNullOrEmpty
        try {
            'inside' | Write-SharedMemory $name
            Read-SharedMemory $name | Should -Be 'inside'
            Test-LockHeld $name | Should -BeTrue
        }
        finally { Unlock-SharedMemory $name }
        Test-LockFree $name | Should -BeTrue
    }

    It 'returns the segment with -PassThru' {
        $name = New-TestSegmentName 'lock'
        $seg = Lock-SharedMemory $name -PassThru
        try { $seg.Name | Should -Be $name } finally { Unlock-SharedMemory $name }
    }

    It 'keeps two runspaces of one process apart' {
        $name = New-TestSegmentName 'lock'
        $script = "1..100 | ForEach-Object { Lock-SharedMemory $name { `$n = [int](Read-SharedMemory $name); Write-SharedMemory $name (`$n + 1) } }"
        $a = Start-Runspace $script
        $b = Start-Runspace $script
        $a.PowerShell.EndInvoke($a.Async); $b.PowerShell.EndInvoke($b.Async)
        $a.PowerShell.Dispose(); $b.PowerShell.Dispose()
        Read-SharedMemory $name | Should -Be 200
    }

    It 'is released by <Scenario>' -TestCases @(
        @{ Scenario = 'Remove-Module'; Script = 'Lock-SharedMemory {0}; Remove-Module PSSharedMemory' }
        @{ Scenario = 'closing the runspace'; Script = 'Lock-SharedMemory {0}' }
    ) {
        $name = New-TestSegmentName 'lock'
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$script:ModuleManifest'; " + ($Script -f $name)).Invoke()
        try {
            if ($Scenario -eq 'closing the runspace') {
                Test-LockHeld $name | Should -BeTrue
                $ps.Runspace.Close()
            }
            Test-LockFree $name | Should -BeTrue
        }
        finally { $ps.Dispose() }
    }

    It 'rejects an invalid name with InvalidSharedMemoryName' {
        { Lock-SharedMemory 'bad name' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSharedMemoryName,PSSharedMemory.Commands.LockSharedMemoryCommand'
    }

    It 'takes a piped segment object and a deserialized one' {
        $name = New-TestSegmentName 'lock'
        $seg = New-SharedMemory $name
        $seg | Lock-SharedMemory -ScriptBlock { 'object' } | Should -Be 'object'
        $deserialized = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($seg))
        $deserialized | Lock-SharedMemory -ScriptBlock { 'deserialized' } | Should -Be 'deserialized'
    }
}
