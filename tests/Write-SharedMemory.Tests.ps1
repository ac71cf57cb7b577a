BeforeAll {
    . $PSScriptRoot/common.ps1
}

Describe 'Write-SharedMemory' {
    AfterAll {
        Get-SharedMemory 'write-*' | Where-Object Name -Match '^write-[0-9a-f]{12}' | Remove-SharedMemory -Confirm:$false
    }

    It 'stores <Scenario> as <ContentType> and reads back the same' -TestCases @(
        @{ Scenario = 'a string'; Value = 'héllo wörld'; ContentType = 'Text' }
        @{ Scenario = 'an empty string'; Value = ''; ContentType = 'Text' }
        @{ Scenario = 'a byte[]'; Value = [byte[]](0, 1, 2, 255); ContentType = 'Bytes' }
        @{ Scenario = 'an int'; Value = 42; ContentType = 'CliXml' }
        @{ Scenario = 'a hashtable'; Value = @{ a = 1; b = 'two' }; ContentType = 'CliXml' }
        @{ Scenario = 'a datetime'; Value = [datetime]'2024-05-06T07:08:09'; ContentType = 'CliXml' }
    ) {
        $name = New-TestSegmentName 'write'
        Write-SharedMemory -Name $name -Value $Value
        (Get-SharedMemory $name).ContentType | Should -Be $ContentType
        $read = Read-SharedMemory $name
        if ($Value -is [hashtable]) {
            $read.a | Should -Be 1
            $read.b | Should -Be 'two'
        }
        elseif ($Value -is [byte[]]) {
            $read.GetType() | Should -Be ([byte[]])
            $read | Should -Be $Value
        }
        else {
            $read | Should -Be $Value
            $read.GetType() | Should -Be $Value.GetType()
        }
    }

    It 'takes Name at position 0 and Value at position 1' {
        $name = New-TestSegmentName 'write'
        $n = 41
        Write-SharedMemory $name ($n + 1)
        Read-SharedMemory $name | Should -Be 42
    }

    It 'gathers pipeline input into one write: <Scenario>' -TestCases @(
        @{ Scenario = 'one string stays a string'; Script = { 'one' }; ContentType = 'Text'; Expected = @('one') }
        @{ Scenario = 'several objects become a collection'; Script = { 1, 'two', 3 }; ContentType = 'CliXml'; Expected = @(1, 'two', 3) }
        @{ Scenario = 'one byte[] stays bytes'; Script = { , [byte[]](1, 2, 3) }; ContentType = 'Bytes'; Expected = @(1, 2, 3) }
        @{ Scenario = 'a stream of bytes becomes bytes'; Script = { [byte[]](4, 5, 6) }; ContentType = 'Bytes'; Expected = @(4, 5, 6) }
    ) {
        $name = New-TestSegmentName 'write'
        & $Script | Write-SharedMemory -Name $name
        $seg = Get-SharedMemory $name
        $seg.Version | Should -Be 1
        $seg.ContentType | Should -Be $ContentType
        (@(Read-SharedMemory $name | ForEach-Object { $_ }) -join ',') | Should -Be ($Expected -join ',')
    }

    It 'writes nothing for an empty pipeline' {
        $name = New-TestSegmentName 'write'
        @() | Write-SharedMemory -Name $name
        Get-SharedMemory $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'writes -Value to each piped segment object' {
        $segs = (New-TestSegmentName 'write'), (New-TestSegmentName 'write') | New-SharedMemory -Size 1KB
        $segs | Write-SharedMemory -Value 'to both'
        $segs | Read-SharedMemory | Should -Be 'to both', 'to both'
        $segs | Get-SharedMemory | ForEach-Object Version | Should -Be 1, 1
    }

    It 'creates a missing segment of max(64 KiB, next power of two) for <Scenario>' -TestCases @(
        @{ Scenario = 'a short string'; Bytes = 2; Size = 64KB }
        @{ Scenario = '100 KB'; Bytes = 100KB; Size = 128KB }
        @{ Scenario = 'exactly 256 KiB'; Bytes = 256KB; Size = 256KB }
    ) {
        $name = New-TestSegmentName 'write'
        Write-SharedMemory $name -Value ([byte[]]::new($Bytes)) -PassThru | ForEach-Object Size | Should -Be $Size
    }

    It 'writes a file with -Path (wildcards) and -LiteralPath' {
        $name = New-TestSegmentName 'write'
        $file = Join-Path $TestDrive 'data[1].bin'
        [IO.File]::WriteAllBytes($file, [byte[]](9, 8, 7))
        Write-SharedMemory $name -LiteralPath $file
        $read = Read-SharedMemory $name
        $read.GetType() | Should -Be ([byte[]])
        $read -join ',' | Should -Be '9,8,7'
        [IO.File]::WriteAllBytes((Join-Path $TestDrive 'plain.bin'), [byte[]](6, 5))
        Write-SharedMemory $name -Path (Join-Path $TestDrive 'pla?n.*')
        (Read-SharedMemory $name) -join ',' | Should -Be '6,5'
        (Get-SharedMemory $name).Version | Should -Be 2
        (Get-SharedMemory $name).ContentType | Should -Be 'Bytes'
    }

    It 'fails on a path that matches <Scenario>' -TestCases @(
        @{ Scenario = 'no file'; Pattern = 'none-*.bin'; ErrorId = 'PathNotFound' }
        @{ Scenario = 'two files'; Pattern = 'two-*.bin'; ErrorId = 'AmbiguousPath' }
    ) {
        'a', 'b' | ForEach-Object { [IO.File]::WriteAllBytes((Join-Path $TestDrive "two-$_.bin"), [byte[]](1)) }
        { Write-SharedMemory (New-TestSegmentName 'write') -Path (Join-Path $TestDrive $Pattern) } |
            Should -Throw -ErrorId "$ErrorId,PSSharedMemory.Commands.WriteSharedMemoryCommand"
    }

    It 'fails with FileNotFound for a missing -LiteralPath' {
        { Write-SharedMemory (New-TestSegmentName 'write') -LiteralPath (Join-Path $TestDrive 'missing.bin') } |
            Should -Throw -ErrorId 'FileNotFound,PSSharedMemory.Commands.WriteSharedMemoryCommand'
    }

    It 'keeps -Depth levels of nested objects' {
        $name = New-TestSegmentName 'write'
        Write-SharedMemory $name (Get-Item $TestDrive) -Depth 1
        (Read-SharedMemory $name).Parent | Should -BeOfType string
        Write-SharedMemory $name (Get-Item $TestDrive) -Depth 2
        (Read-SharedMemory $name).Parent.PSTypeNames[0] | Should -Be 'Deserialized.System.IO.DirectoryInfo'
    }

    It 'returns the segment with -PassThru' {
        $name = New-TestSegmentName 'write'
        $seg = 'x' | Write-SharedMemory $name -PassThru
        $seg | Should -BeOfType PSSharedMemory.SharedMemoryInfo
        $seg.Version | Should -Be 1
        $seg.LastWriterProcessId | Should -Be $PID
    }

    It 'rejects a payload too large with PayloadTooLarge, and keeps the old payload' {
        $name = New-TestSegmentName 'write'
        $null = New-SharedMemory $name -Size 16
        'short' | Write-SharedMemory $name
        { 'x' * 17 | Write-SharedMemory $name -ErrorAction Stop } | Should -Throw -ErrorId 'PayloadTooLarge,PSSharedMemory.Commands.WriteSharedMemoryCommand'
        Write-SharedMemory $name ([byte[]]::new(100)) -ErrorAction SilentlyContinue -ErrorVariable err
        $err[0].CategoryInfo.Category | Should -Be 'LimitsExceeded'
        $err[0].Exception.Message | Should -Match 'New-SharedMemory -Size'
        Read-SharedMemory $name | Should -BeExactly 'short'
        (Get-SharedMemory $name).Version | Should -Be 1
    }

    It 'rejects the name <Scenario> with InvalidSharedMemoryName' -TestCases @(
        @{ Scenario = 'empty'; Name = '' }
        @{ Scenario = 'with a slash'; Name = 'a/b' }
    ) {
        { 'x' | Write-SharedMemory -Name $Name -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSharedMemoryName,PSSharedMemory.Commands.WriteSharedMemoryCommand'
    }

    It 'takes -Timeout as seconds or a TimeSpan, and rejects <Value>' -TestCases @(
        @{ Value = 'soon' }, @{ Value = -5 }
    ) {
        $name = New-TestSegmentName 'write'
        Write-SharedMemory $name 'a' -Timeout 5
        Write-SharedMemory $name 'b' -Timeout (New-TimeSpan -Seconds 5)
        Write-SharedMemory $name 'c' -Timeout -1
        Read-SharedMemory $name | Should -Be 'c'
        { Write-SharedMemory $name 'd' -Timeout $Value } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,PSSharedMemory.Commands.WriteSharedMemoryCommand'
    }

    It 'reuses one mapping for repeated writes by name' -Skip:(-not $IsLinux) {
        $name = New-TestSegmentName 'write'
        1..50 | ForEach-Object { Write-SharedMemory $name "value $_" }
        $null = Read-SharedMemory $name
        @(Get-Content "/proc/$PID/maps" | Where-Object { $_ -like "*$name*" }).Count | Should -Be 1
    }

    It 'writes to the new segment after another process removed and re-created it' {
        $name = New-TestSegmentName 'write'
        'first' | Write-SharedMemory $name
        Invoke-ChildPwsh -Script "Remove-SharedMemory $name; `$null = New-SharedMemory $name -Size 1KB; 'other' | Write-SharedMemory $name"
        Read-SharedMemory $name | Should -Be 'other'
        'second' | Write-SharedMemory $name
        (Get-SharedMemory $name).Size | Should -Be 1KB
        Invoke-ChildPwsh -Script "Read-SharedMemory $name" | Should -Be 'second'
    }
}
