# Read-SharedMemory -Wait on a name that does not exist yet, between real separate pwsh processes.
BeforeAll {
    . $PSScriptRoot/common.ps1

    function Get-CreationWaitReaderScript([string] $Name, [string] $Signal, [double] $Timeout) {
        <#
            Script for the reader process: runs Read-SharedMemory -Wait in a runspace of its own process, and once
            the engine counts that wait as begun (its watch on the store set and its first look done, read from
            the engine's internal SegmentCatalog.WaitsForCreation) writes 'waiting' to segment Signal. Then it
            prints what the read returned. From the signal on, the wait cannot miss the creation of Name.
        #>
        @"
`$ps = [powershell]::Create()
`$null = `$ps.AddScript("```$ErrorActionPreference = 'Stop'; Import-Module '$script:ModuleManifest'; Read-SharedMemory '$Name' -Wait -Timeout $Timeout")
`$async = `$ps.BeginInvoke()
`$catalog = [PSSharedMemory.Engine.SharedMemorySegment].Assembly.GetType('PSSharedMemory.Engine.SegmentCatalog', `$true)
`$waits = `$catalog.GetProperty('WaitsForCreation', [Reflection.BindingFlags]'NonPublic, Static')
while (`$waits.GetValue(`$null) -eq 0) {
    if (`$async.IsCompleted) { throw 'The read ended before its wait for the creation began.' }
    Start-Sleep -Milliseconds 5
}
'waiting' | Write-SharedMemory '$Signal'
`$ps.EndInvoke(`$async)
"@
    }

    function Wait-CreationWaitInThisProcess([scriptblock] $Abandon) {
        # Returns once a wait of this process for a segment's creation has begun (SegmentCatalog.WaitsForCreation).
        $catalog = [PSSharedMemory.Engine.SharedMemorySegment].Assembly.GetType('PSSharedMemory.Engine.SegmentCatalog', $true)
        $waits = $catalog.GetProperty('WaitsForCreation', [Reflection.BindingFlags]'NonPublic, Static')
        $deadline = [datetime]::UtcNow.AddSeconds(60)
        while ($waits.GetValue($null) -eq 0) {
            if (& $Abandon) { throw 'The read ended before its wait for the creation began.' }
            if ([datetime]::UtcNow -gt $deadline) { throw 'No wait for a creation began within 60 seconds.' }
            Start-Sleep -Milliseconds 5
        }
    }

    function Wait-ReaderSignal([string] $Signal, [System.Diagnostics.Process] $Reader) {
        # Returns once the reader has written 'waiting' to Signal; fails with the reader's errors if it ends first.
        $deadline = [datetime]::UtcNow.AddSeconds(60)
        while ((Read-SharedMemory $Signal -ErrorAction Ignore) -ne 'waiting') {
            if ($Reader.HasExited) {
                $out = Wait-ChildPwsh -Process $Reader
                throw "The reader ended before its wait began: $out"
            }
            if ([datetime]::UtcNow -gt $deadline) { throw 'The reader did not begin its wait within 60 seconds.' }
            # The pace of the check, not an ordering: the loop ends on the signal.
            Start-Sleep -Milliseconds 20
        }
    }
}

Describe 'Read-SharedMemory -Wait on a name that does not exist yet' {
    AfterAll {
        Get-SharedMemory 'readc-*' | Where-Object Name -Match '^readc-[0-9a-f]{12}' | Remove-SharedMemory -Confirm:$false
    }

    It 'returns the first write of another process, in a wait begun before the segment existed' {
        $name = New-TestSegmentName 'readc'
        $signal = New-TestSegmentName 'readc'
        $reader = Start-ChildPwsh -Script (Get-CreationWaitReaderScript -Name $name -Signal $signal -Timeout 10)
        try {
            Wait-ReaderSignal -Signal $signal -Reader $reader
            Get-SharedMemory $name -ErrorAction Ignore | Should -BeNullOrEmpty -Because 'the wait began before the segment existed'

            Invoke-ChildPwsh -Script "'first write' | Write-SharedMemory $name; 'written'" | Should -Be 'written'
            Wait-ChildPwsh -Process $reader -TimeoutSeconds 60 | Should -Be 'first write'
        }
        finally {
            if (-not $reader.HasExited) { $reader.Kill() }
            $reader.Dispose()
        }
    }

    It 'ends promptly when the pipeline is stopped (Ctrl+C)' {
        $name = New-TestSegmentName 'readc'
        $reader = Start-Runspace "Read-SharedMemory $name -Wait"
        try {
            Wait-CreationWaitInThisProcess -Abandon { $reader.Async.IsCompleted }
            # The wait has no timeout and no one creates the name: only the stop can end it.
            $stopping = $reader.PowerShell.BeginStop($null, $null)
            $stopping.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(30)) | Should -BeTrue -Because 'a stopped wait ends well within 30 seconds'
            $reader.PowerShell.EndStop($stopping)
            $reader.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
        }
        finally {
            # A wait the stop did not end would block Dispose: a write ends it.
            if (-not $reader.Async.IsCompleted) { 'end' | Write-SharedMemory $name }
            $reader.PowerShell.Dispose()
        }
    }

    It 'fails with WaitTimeout in the other process when no one creates it within -Timeout' {
        $name = New-TestSegmentName 'readc'
        $out = Invoke-ChildPwsh -Script "try { Read-SharedMemory $name -Wait -Timeout 0.3 -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId; `$_.Exception.Message }"
        $out | Should -Be @('WaitTimeout,PSSharedMemory.Commands.ReadSharedMemoryCommand', "Segment '$name' was not created and written within 0.3 seconds.")
    }
}
