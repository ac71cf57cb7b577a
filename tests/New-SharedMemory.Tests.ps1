BeforeAll {
    . $PSScriptRoot/common.ps1
}

Describe 'New-SharedMemory' {
    AfterAll {
        Get-SharedMemory 'new-*' | Where-Object Name -Match '^new-[0-9a-f]{12}' | Remove-SharedMemory -Confirm:$false
    }

    It 'creates a segment and returns it with the live header' {
        $name = New-TestSegmentName 'new'
        $seg = New-SharedMemory -Name $name -Size 4KB
        $seg | Should -BeOfType PSSharedMemory.SharedMemoryInfo
        $seg.Name | Should -BeExactly $name
        $seg.Size | Should -Be 4KB
        $seg.Length | Should -Be 0
        $seg.ContentType | Should -Be 'Empty'
        $seg.Version | Should -Be 0
        $seg.Scope | Should -Be 'User'
        $seg.CreatorProcessId | Should -Be $PID
        $seg.CreationTime | Should -BeGreaterThan ([datetime]::Now.AddMinutes(-5))
        "$seg" | Should -BeExactly $name
    }

    It 'takes Name and Size by position, and defaults Size to 64 KiB' {
        $name = New-TestSegmentName 'new'
        (New-SharedMemory $name 1MB).Size | Should -Be 1MB
        (New-SharedMemory (New-TestSegmentName 'new')).Size | Should -Be 64KB
    }

    It 'rejects an existing name with SharedMemoryExists and leaves the data alone' {
        $name = New-TestSegmentName 'new'
        $null = New-SharedMemory $name -Size 1KB
        'kept' | Write-SharedMemory $name
        { New-SharedMemory $name -Size 2KB -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemoryExists,PSSharedMemory.Commands.NewSharedMemoryCommand'
        $null = New-SharedMemory $name -ErrorAction SilentlyContinue -ErrorVariable err
        $err[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        $err[0].TargetObject | Should -BeExactly $name
        Read-SharedMemory $name | Should -BeExactly 'kept'
        (Get-SharedMemory $name).Size | Should -Be 1KB
    }

    It 'rejects the size <Scenario> with InvalidSize' -TestCases @(
        @{ Scenario = 'zero'; Size = 0 }
        @{ Scenario = 'negative'; Size = -1 }
        @{ Scenario = 'beyond 1 TiB'; Size = 2TB }
        @{ Scenario = 'long.MaxValue'; Size = [long]::MaxValue }
    ) {
        $name = New-TestSegmentName 'new'
        { New-SharedMemory $name -Size $Size -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSize,PSSharedMemory.Commands.NewSharedMemoryCommand'
        $null = New-SharedMemory $name -Size $Size -ErrorAction SilentlyContinue -ErrorVariable err
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err[0].Exception.Message | Should -Match 'Use a size from 1 byte'
        Get-SharedMemory $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'rejects the name <Scenario> with InvalidSharedMemoryName' -TestCases @(
        @{ Scenario = 'empty'; Name = '' }
        @{ Scenario = 'with a space'; Name = 'a b' }
        @{ Scenario = 'with a slash'; Name = '../etc' }
        @{ Scenario = 'starting with a dot'; Name = '.hidden' }
        @{ Scenario = 'of 129 characters'; Name = 'a' * 129 }
    ) {
        { New-SharedMemory -Name $Name -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSharedMemoryName,PSSharedMemory.Commands.NewSharedMemoryCommand'
        $null = New-SharedMemory -Name $Name -ErrorAction SilentlyContinue -ErrorVariable err
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err[0].Exception.Message | Should -Match 'A name is 1 to 128 characters'
    }

    It 'applies -Permission as octal Unix mode bits' {
        if ($IsWindows -or $PSVersionTable.PSEdition -eq 'Desktop') { Set-ItResult -Skipped -Because 'Unix only: Unix mode bits; Windows keeps the per-user store private with its folder ACL' }
        $name = New-TestSegmentName 'new'
        $null = New-SharedMemory $name -Permission 640
        $file = Join-Path ([PSSharedMemory.Engine.SharedMemorySegment]::GetStoreDirectory('User')) "$name.pssm"
        (Get-Item -LiteralPath $file).UnixMode | Should -Be '-rw-r-----'
    }

    It 'rejects the permission <Value> with InvalidPermission' -TestCases @(
        @{ Value = '999' }, @{ Value = 'rwx' }, @{ Value = '1777' }
    ) {
        { New-SharedMemory (New-TestSegmentName 'new') -Permission $Value } | Should -Throw -ErrorId 'InvalidPermission,PSSharedMemory.Commands.NewSharedMemoryCommand'
    }

    It 'creates in the global scope with -Scope Global, reachable only with -Scope Global' {
        $name = New-TestSegmentName 'new'
        try {
            $seg = New-SharedMemory $name -Scope Global -Permission 600 -ErrorAction Stop
        }
        catch {
            # Only a machine whose global store this user may not write skips; any other failure fails.
            if ($_.FullyQualifiedErrorId -notlike 'PermissionDenied,*') { throw }
            Set-ItResult -Skipped -Because "the global store is not writable for this user: $_"
            return
        }
        try {
            $seg.Scope | Should -Be 'Global'
            'global' | Write-SharedMemory $name -Scope Global
            Read-SharedMemory $name -Scope Global | Should -Be 'global'
            $seg | Read-SharedMemory | Should -Be 'global'
            { Read-SharedMemory $name -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemoryNotFound,PSSharedMemory.Commands.ReadSharedMemoryCommand'
        }
        finally {
            Remove-SharedMemory $name -Scope Global -Confirm:$false
        }
    }

    It 'creates several from the pipeline' {
        $names = (New-TestSegmentName 'new'), (New-TestSegmentName 'new')
        ($names | New-SharedMemory -Size 1KB).Name | Should -Be $names
    }
}
