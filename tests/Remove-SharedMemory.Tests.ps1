BeforeAll {
    . $PSScriptRoot/common.ps1
}

Describe 'Remove-SharedMemory' {
    AfterAll {
        Get-SharedMemory 'remove-*' | Where-Object Name -Match '^remove-[0-9a-f]{12}' | Remove-SharedMemory -Confirm:$false
    }

    It 'removes a segment by name' {
        $name = New-TestSegmentName 'remove'
        $null = New-SharedMemory $name
        Remove-SharedMemory -Name $name
        Get-SharedMemory $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'keeps the segment with -WhatIf' {
        $name = New-TestSegmentName 'remove'
        'keep' | Write-SharedMemory $name
        Remove-SharedMemory $name -WhatIf
        Get-SharedMemory $name | Remove-SharedMemory -WhatIf
        Read-SharedMemory $name | Should -Be 'keep'
    }

    It 'removes with -Confirm:$false under $ConfirmPreference Medium without asking' {
        $name = New-TestSegmentName 'remove'
        $null = New-SharedMemory $name
        $ConfirmPreference = 'Medium'
        Remove-SharedMemory $name -Confirm:$false
        Get-SharedMemory $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    # ConfirmImpact is Medium: the default $ConfirmPreference (High) removes without asking, Medium or
    # -Confirm asks. The host records each prompt and gives the answer; only Yes removes.
    It '<Scenario>' -TestCases @(
        @{ Scenario = 'asks under $ConfirmPreference Medium and keeps the segment on No'; Preference = 'Medium'; Confirm = ''; Answer = 'No'; Asks = $true; Removed = $false }
        @{ Scenario = 'asks under $ConfirmPreference Medium and removes on Yes'; Preference = 'Medium'; Confirm = ''; Answer = 'Yes'; Asks = $true; Removed = $true }
        @{ Scenario = 'asks with -Confirm under $ConfirmPreference High and keeps the segment on No'; Preference = 'High'; Confirm = '-Confirm'; Answer = 'No'; Asks = $true; Removed = $false }
        @{ Scenario = 'does not ask under $ConfirmPreference High'; Preference = 'High'; Confirm = ''; Answer = 'No'; Asks = $false; Removed = $true }
    ) {
        param($Preference, $Confirm, $Answer, $Asks, $Removed)
        $name = New-TestSegmentName 'remove'
        $null = New-SharedMemory $name
        $session = New-PromptRecordingRunspace -Answer $Answer
        try {
            $ps = [powershell]::Create()
            $ps.Runspace = $session.Runspace
            $null = $ps.AddScript("`$ConfirmPreference = '$Preference'; Remove-SharedMemory -Name $name $Confirm").Invoke()
            $ps.Streams.Error | Should -BeNullOrEmpty
            $ps.Dispose()
        }
        finally { $session.Runspace.Dispose() }
        if ($Asks) {
            $session.Prompts.Count | Should -Be 1
            $session.Prompts[0] | Should -BeLike "*$name*"
        }
        else {
            $session.Prompts | Should -BeNullOrEmpty
        }
        [bool](Get-SharedMemory $name -ErrorAction SilentlyContinue) | Should -Be (-not $Removed)
    }

    It 'removes every match of a wildcard, piped objects, and deserialized objects' {
        $prefix = New-TestSegmentName 'remove'
        foreach ($suffix in 'a', 'b', 'c', 'd') { $null = New-SharedMemory "$prefix-$suffix" }
        Remove-SharedMemory "$prefix-[ab]"
        (Get-SharedMemory "$prefix-*").Name | Should -Be "$prefix-c", "$prefix-d"
        Get-SharedMemory "$prefix-c" | Remove-SharedMemory
        $deserialized = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize((Get-SharedMemory "$prefix-d")))
        $deserialized | Remove-SharedMemory
        Get-SharedMemory "$prefix-*" | Should -BeNullOrEmpty
    }

    It 'reports a missing name with SharedMemoryNotFound, and a wildcard that matches nothing without error' {
        $name = New-TestSegmentName 'remove'
        { Remove-SharedMemory $name -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemoryNotFound,PSSharedMemory.Commands.RemoveSharedMemoryCommand'
        Remove-SharedMemory "$name*" -ErrorVariable err
        $err | Should -BeNullOrEmpty
    }

    It 'rejects an invalid name with InvalidSharedMemoryName' {
        { Remove-SharedMemory '' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSharedMemoryName,PSSharedMemory.Commands.RemoveSharedMemoryCommand'
    }

    It 'is seen by another process that has the segment open' {
        $name = New-TestSegmentName 'remove'
        'x' | Write-SharedMemory $name
        $child = Start-ChildPwsh -Script "'x' | Write-SharedMemory $name; 'opened' | Write-SharedMemory '$name-go'; try { Read-SharedMemory $name -Wait -Timeout 60 -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId }"
        try {
            $null = Read-SharedMemory "$name-go" -NewerThan 0 -Timeout 60
            Wait-SegmentWaiter -Name $name -Word Change -Abandon { $child.HasExited }
            Remove-SharedMemory $name
            Wait-ChildPwsh -Process $child | Should -Be 'SharedMemoryRemoved,PSSharedMemory.Commands.ReadSharedMemoryCommand'
        }
        finally { Remove-SharedMemory "$name-go" -ErrorAction SilentlyContinue }
    }
}
