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

    It 'creates a missing growable segment of the payload and a quarter more, at least 4 KiB, for <Scenario>' -TestCases @(
        @{ Scenario = 'a short string'; Bytes = 2; Size = 4KB }
        @{ Scenario = '100 KB'; Bytes = 100KB; Size = 128000 }
        @{ Scenario = 'exactly 256 KiB'; Bytes = 256KB; Size = 327680 }
    ) {
        $name = New-TestSegmentName 'write'
        $segment = Write-SharedMemory $name -Value ([byte[]]::new($Bytes)) -PassThru
        $segment.Size | Should -Be $Size
        $segment.IsGrowable | Should -BeTrue
    }

    It 'writes a file with -Path (wildcards) and -LiteralPath' {
        if ($IsWindows -and (Test-Path -LiteralPath 'HKLM:\Software\Wine')) {
            # .NET turns 'pla?n.*' into the DOS wildcards '<' and '"' for NtQueryDirectoryFile, which Wine 8 does not match.
            Set-ItResult -Skipped -Because "Wine 8's NtQueryDirectoryFile does not match the DOS wildcards .NET uses for a pattern ending in '.*'"
        }
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

    It 'keeps objects exactly as Export-Clixml would: <Scenario>' -TestCases @(
        @{ Scenario = 'plain PSCustomObjects'; Make = { foreach ($i in 1..20) { [pscustomobject]@{ Id = $i; Name = "item-$i"; Value = $i * 1.5; When = [datetime]::new(2020, 1, 1, 0, 0, $i, [DateTimeKind]::Utc); Enabled = ($i % 2 -eq 0) } } } }
        @{ Scenario = 'values wrapped by the pipeline'; Make = { 1..5 | ForEach-Object { [pscustomobject]@{ n = $_; s = "x$_" } } } }
        @{ Scenario = 'Select-Object output'; Make = { Get-Process -Id $PID | Select-Object Name, Id, WorkingSet } }
        @{ Scenario = 'every plain value type and awkward text'; Make = {
                [pscustomobject]@{
                    'odd <&>" name' = "a_xb`r`n$([char]0xD83D)$([char]0xDE00)$([char]0x85)]]>_X1 & <tag>"; Nothing = $null; Char = [char]'A'; Byte = [byte]255
                    SByte = [sbyte]-1; Int16 = [int16]-5; UInt16 = [uint16]5; UInt32 = [uint32]7; UInt64 = [uint64]::MaxValue; Int64 = [int64]::MinValue
                    Single = [single]1.25; Decimal = [decimal]'1.10'; Guid = [guid]'0f8fad5b-d9cb-469f-a165-70867728950e'; TimeSpan = [timespan]::FromTicks(123456789)
                    Inf = [double]::PositiveInfinity; NaN = [double]::NaN; Local = [datetime]::new(2020, 5, 6, 7, 8, 9, [DateTimeKind]::Local); Unspecified = [datetime]::new(2020, 5, 6); Empty = ''
                } } }
        @{ Scenario = 'a nested object'; Make = { [pscustomobject]@{ Inner = [pscustomobject]@{ a = 1 } } } }
        @{ Scenario = 'a script property'; Make = { [pscustomobject]@{ a = 1 } | Add-Member -MemberType ScriptProperty -Name Twice -Value { $this.a * 2 } -PassThru } }
        @{ Scenario = 'a value with a note of its own'; Make = { [pscustomobject]@{ v = (1 | Add-Member -NotePropertyName Extra -NotePropertyValue 2 -PassThru) } } }
        @{ Scenario = 'a PSStandardMembers member set'; Make = {
                $o = [pscustomobject]@{ a = 1; b = 2 }
                $o | Add-Member -MemberType MemberSet -Name PSStandardMembers -Value ([System.Management.Automation.PSMemberInfo[]]@([System.Management.Automation.PSNoteProperty]::new('SerializationMethod', 'String')))
                $o } }
        @{ Scenario = 'the same object twice'; Make = { $o = [pscustomobject]@{ a = 1 }; $o; $o } }
        @{ Scenario = 'objects mixed with plain values'; Make = { [pscustomobject]@{ a = 1 }; 'text'; 5 } }
    ) {
        $name = New-TestSegmentName 'write'
        $objects = @(& $Make)
        # What Export-Clixml then Import-Clixml would give, written out again in canonical form.
        $expected = [System.Management.Automation.PSSerializer]::DeserializeAsList([System.Management.Automation.PSSerializer]::Serialize($objects, 2)) | ForEach-Object { $_ }
        $canonical = { param($items) [System.Management.Automation.PSSerializer]::Serialize(@($items), 5) }

        $objects | Write-SharedMemory -Name $name
        & $canonical (Read-SharedMemory -Name $name) | Should -BeExactly (& $canonical $expected)

        Write-SharedMemory -Name $name -Value $objects
        & $canonical (Read-SharedMemory -Name $name) | Should -BeExactly (& $canonical $expected)
    }

    It 'writes plain PSCustomObjects as compact CliXml, one top-level object each' {
        # The compact form is what the fast writer makes; the test above proves it reads back exactly.
        $name = New-TestSegmentName 'write'
        1..3 | ForEach-Object { [pscustomobject]@{ n = $_ } } | Write-SharedMemory -Name $name
        $xml = Read-SharedMemory -Name $name -AsText
        $xml | Should -Not -Match '<LST>'
        ([regex]::Matches($xml, '<Obj RefId=')).Count | Should -Be 3
        ([xml]$xml).Objs.Obj.Count | Should -Be 3
    }

    It 'binds values piped with -Name to -Value alone, never trying them as segment objects' {
        # Trying each value as a segment object is a failed conversion per value, which costs more than the write.
        $name = New-TestSegmentName 'write'
        $trace = Join-Path $TestDrive 'binding.txt'
        Trace-Command -Name ParameterBinding -FilePath $trace -Expression { 1..3 | ForEach-Object { [pscustomobject]@{ n = $_ } } | Write-SharedMemory -Name $name }
        $log = Get-Content -LiteralPath $trace -Raw
        $log | Should -Match 'BIND arg \[@\{n=3\}\] to param \[Value\] SUCCESSFUL'
        $log | Should -Not -Match 'PSSharedMemory\.SharedMemoryInfo'
        @(Read-SharedMemory -Name $name).n | Should -Be 1, 2, 3
    }

    It 'does not bind a piped segment object when -Name and -Value are given, and writes nothing' {
        $name = New-TestSegmentName 'write'
        $other = New-SharedMemory (New-TestSegmentName 'write') -Size 1KB
        $other | Write-SharedMemory -Name $name -Value 'x' -ErrorAction SilentlyContinue -ErrorVariable err
        $err[0].FullyQualifiedErrorId | Should -Be 'InputObjectNotBound,PSSharedMemory.Commands.WriteSharedMemoryCommand'
        (Get-SharedMemory $other.Name).Version | Should -Be 0
        Get-SharedMemory $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
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
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'New-SharedMemory -Growable'
        ($err[0] | Out-String) | Should -Match 'New-SharedMemory -Growable'
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

    It 'reuses one mapping for repeated writes by name' {
        if (-not $IsLinux) { Set-ItResult -Skipped -Because 'Unix only: it counts mappings in /proc/<pid>/maps, which only Linux has' }
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
