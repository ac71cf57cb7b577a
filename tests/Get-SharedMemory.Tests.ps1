BeforeAll {
    . $PSScriptRoot/common.ps1
}

Describe 'Get-SharedMemory' {
    BeforeAll {
        $script:prefix = New-TestSegmentName 'get'
        $script:names = "$prefix-a", "$prefix-b", "$prefix-c1"
        foreach ($n in $names) { $null = New-SharedMemory $n -Size 1KB }
        'text' | Write-SharedMemory "$prefix-a"
    }
    AfterAll {
        Get-SharedMemory "$prefix-*" | Remove-SharedMemory -Confirm:$false
    }

    It 'lists all segments without -Name' {
        $all = Get-SharedMemory
        foreach ($n in $names) { $all.Name | Should -Contain $n }
    }

    It 'filters with the wildcard <Pattern>' -TestCases @(
        @{ Pattern = '<prefix>-?'; Expected = 2 }
        @{ Pattern = '<prefix>-[ab]'; Expected = 2 }
        @{ Pattern = '<prefix>-c*'; Expected = 1 }
        @{ Pattern = '<prefix>*'; Expected = 3 }
    ) {
        @(Get-SharedMemory ($Pattern -replace '<prefix>', $prefix)).Count | Should -Be $Expected
    }

    It 'returns nothing and no error when a wildcard matches nothing' {
        Get-SharedMemory "$prefix-zz*" -ErrorVariable err | Should -BeNullOrEmpty
        $err | Should -BeNullOrEmpty
    }

    It 'shows the header: Length, ContentType, Version, LastWriterProcessId' {
        $seg = Get-SharedMemory "$prefix-a"
        $seg.Length | Should -Be 4
        $seg.ContentType | Should -Be 'Text'
        $seg.Version | Should -Be 1
        $seg.LastWriterProcessId | Should -Be $PID
        $seg.LastWriteTime | Should -BeOfType datetime
    }

    It 'reports a missing literal name with SharedMemoryNotFound and goes on' {
        $out = Get-SharedMemory "$prefix-missing", "$prefix-b" -ErrorAction SilentlyContinue -ErrorVariable err
        $out.Name | Should -Be "$prefix-b"
        $err[0].FullyQualifiedErrorId | Should -Be 'SharedMemoryNotFound,PSSharedMemory.Commands.GetSharedMemoryCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be "$prefix-missing"
        { Get-SharedMemory "$prefix-missing" -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemoryNotFound,PSSharedMemory.Commands.GetSharedMemoryCommand'
    }

    It 'rejects an invalid literal name with InvalidSharedMemoryName' {
        { Get-SharedMemory 'not valid' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSharedMemoryName,PSSharedMemory.Commands.GetSharedMemoryCommand'
    }

    It 'takes names from the pipeline as strings, and segment objects, but not the Name of any object' {
        ("$prefix-a", "$prefix-b" | Get-SharedMemory).Name | Should -Be "$prefix-a", "$prefix-b"
        (Get-SharedMemory "$prefix-b" | Get-SharedMemory).Name | Should -Be "$prefix-b"
        { [pscustomobject]@{ Name = "$prefix-b" } | Get-SharedMemory } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,PSSharedMemory.Commands.GetSharedMemoryCommand'
    }

    It 'formats as a table of Name, Size, Length, ContentType, Version, LastWriter, LastWriteTime, LockHolder, Messages' {
        $header = (Get-SharedMemory "$prefix-a" | Format-Table | Out-String -Width 200) -split '\r?\n' | Where-Object { $_ -match '\S' } | Select-Object -First 1
        ($header -split '\s+' | Where-Object { $_ }) | Should -Be 'Name', 'Size', 'Length', 'ContentType', 'Version', 'LastWriter', 'LastWriteTime', 'LockHolder', 'Messages'
    }

    It 'completes -Name with existing names' {
        $line = "Read-SharedMemory -Name $prefix-"
        $result = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $result.CompletionMatches.CompletionText | Should -Be $names
        $line = "Get-SharedMemory $prefix-c"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be "$prefix-c1"
    }
}
