BeforeAll {
    . $PSScriptRoot/common.ps1
}

Describe 'Unlock-SharedMemory' {
    AfterAll {
        Get-SharedMemory 'unlock-*' | Where-Object Name -Match '^unlock-[0-9a-f]{12}' | Remove-SharedMemory -Confirm:$false
    }

    It 'fails with SharedMemoryNotLocked for a segment <Scenario>' -TestCases @(
        @{ Scenario = 'never locked'; Prepare = { param($n) 'x' | Write-SharedMemory $n } }
        @{ Scenario = 'never opened'; Prepare = { param($n) Invoke-ChildPwsh -Script "'x' | Write-SharedMemory $n" } }
        @{ Scenario = 'already unlocked'; Prepare = { param($n) Lock-SharedMemory $n; Unlock-SharedMemory $n } }
        @{ Scenario = 'that does not exist'; Prepare = { param($n) } }
    ) {
        $name = New-TestSegmentName 'unlock'
        & $Prepare $name
        { Unlock-SharedMemory $name -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemoryNotLocked,PSSharedMemory.Commands.UnlockSharedMemoryCommand'
        Unlock-SharedMemory $name -ErrorAction SilentlyContinue -ErrorVariable err
        $err[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'Lock-SharedMemory'
        ($err[0] | Out-String) | Should -Match 'Lock-SharedMemory'
    }

    It 'does not release a lock held by another process' {
        $name = New-TestSegmentName 'unlock'
        $null = New-SharedMemory $name
        # The child holds the lock until this test writes 'go' to the release segment, however slow either side is.
        $holder = Start-ChildPwsh -Script "Lock-SharedMemory $name; 'held' | Write-SharedMemory $name; $(Get-WaitForGoScript "$name-release"); Unlock-SharedMemory $name; 'done'"
        try {
            $deadline = [datetime]::UtcNow.AddSeconds(60)
            while ((Read-SharedMemory $name) -ne 'held' -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            { Unlock-SharedMemory $name -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemoryNotLocked,PSSharedMemory.Commands.UnlockSharedMemoryCommand'
            { Lock-SharedMemory $name -Timeout 0.1 -ErrorAction Stop } | Should -Throw -ErrorId 'LockTimeout,PSSharedMemory.Commands.LockSharedMemoryCommand'
            'go' | Write-SharedMemory "$name-release"
            Wait-ChildPwsh -Process $holder | Should -Be 'done'
        }
        finally { Remove-SharedMemory "$name-release" -ErrorAction SilentlyContinue }
    }

    It 'releases one level of a re-entrant lock at a time' {
        $name = New-TestSegmentName 'unlock'
        Lock-SharedMemory $name
        Lock-SharedMemory $name
        Unlock-SharedMemory $name
        Invoke-ChildPwsh -Script "try { Lock-SharedMemory $name -Timeout 0.2 -ErrorAction Stop; 'free' } catch { 'held' }" | Should -Be 'held'
        Unlock-SharedMemory $name -PassThru | ForEach-Object Name | Should -Be $name
        Invoke-ChildPwsh -Script "Lock-SharedMemory $name -Timeout 30; 'free'" | Should -Be 'free'
    }

    It 'rejects an invalid name with InvalidSharedMemoryName' {
        { Unlock-SharedMemory 'bad/name' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSharedMemoryName,PSSharedMemory.Commands.UnlockSharedMemoryCommand'
    }

    It 'takes a piped segment object' {
        $name = New-TestSegmentName 'unlock'
        $seg = New-SharedMemory $name
        $seg | Lock-SharedMemory
        $seg | Unlock-SharedMemory
        { $seg | Unlock-SharedMemory -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemoryNotLocked,PSSharedMemory.Commands.UnlockSharedMemoryCommand'
    }
}
