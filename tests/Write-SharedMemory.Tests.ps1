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
        @{ Scenario = 'plain PSCustomObjects'; Path = 'write Fast, read Fast'; Make = { foreach ($i in 1..20) { [pscustomobject]@{ Id = $i; Name = "item-$i"; Value = $i * 1.5; When = [datetime]::new(2020, 1, 1, 0, 0, $i, [DateTimeKind]::Utc); Enabled = ($i % 2 -eq 0) } } } }
        @{ Scenario = 'values wrapped by the pipeline'; Path = 'write Fast, read Fast'; Make = { 1..5 | ForEach-Object { [pscustomobject]@{ n = $_; s = "x$_" } } } }
        @{ Scenario = 'Select-Object output'; Path = 'write Fast, read Fast'; Make = { Get-Process -Id $PID | Select-Object Name, Id, WorkingSet, StartTime } }
        @{ Scenario = 'every plain value type and awkward text'; Path = 'write Fast, read Fast'; Make = {
                [pscustomobject]@{
                    'odd <&>" name' = "a_xb`r`n$([char]0xD83D)$([char]0xDE00)$([char]0x85)]]>_X1 & <tag>"; Nothing = $null; Char = [char]'A'; Byte = [byte]255
                    SByte = [sbyte]-1; Int16 = [int16]-5; UInt16 = [uint16]5; UInt32 = [uint32]7; UInt64 = [uint64]::MaxValue; Int64 = [int64]::MinValue
                    Single = [single]1.25; Decimal = [decimal]'1.10'; Guid = [guid]'0f8fad5b-d9cb-469f-a165-70867728950e'; TimeSpan = [timespan]::FromTicks(123456789)
                    Inf = [double]::PositiveInfinity; NaN = [double]::NaN; Local = [datetime]::new(2020, 5, 6, 7, 8, 9, [DateTimeKind]::Local); Unspecified = [datetime]::new(2020, 5, 6); Empty = ''
                } } }
        @{ Scenario = 'text with XML-special and control characters and surrogate pairs'; Path = 'write Fast, read Fast'; Make = {
                [pscustomobject]@{
                    Xml = '<a b="c">&amp; ''x'' ]]></a>'; Controls = -join [char[]](0..31 + 127..159); Emoji = "$([char]0xD83D)$([char]0xDE00) and lone $([char]0xDC00) $([char]0xD800)"
                    Escapes = '_x0041_ _X0041_ _x _ __x00_'; Spaces = "  `t lead and trail `t  "; Unicode = 'é ß 漢字 ‮'; "_x0041_ $([char]9)name" = 'encoded name'
                } } }
        @{ Scenario = 'big and small numbers'; Path = 'write Fast, read Fast'; Make = {
                [pscustomobject]@{
                    MaxLong = [long]::MaxValue; MinInt = [int]::MinValue; MaxULong = [ulong]::MaxValue; MaxDecimal = [decimal]::MaxValue; MinDecimal = [decimal]::MinValue
                    SmallDecimal = [decimal]'0.0000000000000000000000000001'; Epsilon = [double]::Epsilon; MaxDouble = [double]::MaxValue; NegativeZero = -0.0; MinusInf = [double]::NegativeInfinity
                    MaxSingle = [single]::MaxValue; SingleNaN = [single]::NaN; Pi = [math]::PI; Tiny = 1e-300; MaxByte = [byte]255; MinSByte = [sbyte]::MinValue
                } } }
        @{ Scenario = 'guids, time spans, URIs, versions, chars, bytes and script blocks'; Path = 'write Fast, read Fast'; Make = {
                [pscustomobject]@{
                    Guid = [guid]::Empty; Negative = [timespan]::FromDays(-1.5); Long = [timespan]::MaxValue; Absolute = [uri]'https://example.org/a b/?q=1&r=<2>#frag'
                    Relative = [uri]::new('../x y.txt', [UriKind]::Relative); Version2 = [version]'1.2'; Version4 = [version]'1.2.3.4'; Quote = [char]'"'; Nul = [char]0
                    Bytes = [byte[]](0, 1, 254, 255); NoBytes = [byte[]]@(); Script = { param($x) "<$x>" & $null }
                } } }
        @{ Scenario = 'DateTime of the three kinds'; Path = 'write Fast, read Fast'; Make = {
                [pscustomobject]@{ Utc = [datetime]::new(2021, 2, 3, 4, 5, 6, 789, [DateTimeKind]::Utc); Local = [datetime]::new(2021, 2, 3, 4, 5, 6, [DateTimeKind]::Local); Unspecified = [datetime]::new(2021, 2, 3, 4, 5, 6, [DateTimeKind]::Unspecified); Min = [datetime]::MinValue; Max = [datetime]::MaxValue }
                [datetime]::new(2022, 1, 1, 0, 0, 0, [DateTimeKind]::Utc)
            } }
        @{ Scenario = 'a nested object'; Path = 'write Fast, read Fast'; Make = { [pscustomobject]@{ Inner = [pscustomobject]@{ a = 1; Deeper = [pscustomobject]@{ b = [pscustomobject]@{ c = 'down' } } } } } }
        @{ Scenario = 'small integers whose type names the parameter binder looked at'; Path = 'write Fast, read Fast'; Make = {
                # Binding a piped 2 to a cmdlet's parameters makes PowerShell keep type names for the box it
                # shares among all 2s; they are the default ones, so nothing changes what is written.
                $queue = New-TestSegmentName 'write'
                2 | Send-SharedMemoryMessage -Name $queue
                Remove-SharedMemory -Name $queue -Confirm:$false
                [pscustomobject]@{ Two = [int]'2'; Items = @([int]'2', 'two') } } }
        @{ Scenario = 'arrays of objects, of primitives, empty, nested and of nulls'; Path = 'write Fast, read Fast'; Make = {
                [pscustomobject]@{
                    Objects = @([pscustomobject]@{ a = 1 }, [pscustomobject]@{ a = 2 }); Ints = [int[]](1, 2, 3); Strings = 'a', 'b'; Empty = @(); Nested = @(@(1, 2), @(), @(@('x')))
                    Nulls = @($null, $null); Mixed = @(1, 'two', 3.0, $null, [pscustomobject]@{ four = 4 }); List = [System.Collections.Generic.List[object]]@(1, 'x'); ArrayList = [System.Collections.ArrayList]@('y', 2)
                    Typed = [System.Collections.Generic.List[datetime]]@([datetime]::new(2020, 1, 1))
                } } }
        @{ Scenario = 'hashtables and ordered dictionaries'; Path = 'write Fast, read Fast'; Make = {
                $generic = [System.Collections.Generic.Dictionary[string, int]]::new()
                $generic['a'] = 1
                [pscustomobject]@{
                    Hashtable = @{ Name = 'x'; Count = 3; Nested = @{ deep = $true }; List = 1, 2 }; Ordered = [ordered]@{ z = 1; a = 2; m = [pscustomobject]@{ q = 'r' } }; Empty = @{}
                    IntKeys = @{ 1 = 'one'; 2 = 'two' }; Generic = $generic
                } } }
        @{ Scenario = 'a dictionary whose keys differ only in case'; Path = 'write Fast, read Fast'; Make = {
                $dictionary = [System.Collections.Generic.Dictionary[string, object]]::new([StringComparer]::Ordinal)
                $dictionary['key'] = 1
                $dictionary['KEY'] = 2
                [pscustomobject]@{ Keys = $dictionary } } }
        @{ Scenario = 'a hashtable alone'; Path = 'write Fast, read Fast'; Make = { , @{ a = 1; b = 'two' } } }
        @{ Scenario = 'enums, plain and flags'; Path = 'write Fast, read Fast'; Make = { [pscustomobject]@{ Day = [DayOfWeek]::Friday; Attributes = [System.IO.FileAttributes]'ReadOnly, Hidden'; Undefined = [Enum]::ToObject([DayOfWeek], 42); Byte = [System.Security.AccessControl.AceFlags]::Inherited } } }
        @{ Scenario = '$null alone'; Path = 'write Fast, read Fast'; Make = { $null } }
        @{ Scenario = '$null as a property'; Path = 'write Fast, read Fast'; Make = { [pscustomobject]@{ Nothing = $null; Something = 1 } } }
        @{ Scenario = 'a secure string'; Path = 'write PSSerializer, read PSSerializer'; Make = { [pscustomobject]@{ Secret = ConvertTo-SecureString 'p@ss' -AsPlainText -Force } } }
        @{ Scenario = 'a script property'; Path = 'write PSSerializer, read Fast'; Make = { [pscustomobject]@{ a = 1 } | Add-Member -MemberType ScriptProperty -Name Twice -Value { $this.a * 2 } -PassThru } }
        @{ Scenario = 'an alias property'; Path = 'write PSSerializer, read Fast'; Make = { [pscustomobject]@{ a = 1 } | Add-Member -MemberType AliasProperty -Name b -Value a -PassThru } }
        @{ Scenario = 'a value with a note of its own'; Path = 'write PSSerializer, read Fast'; Make = { [pscustomobject]@{ v = ([int]::Parse('41') | Add-Member -NotePropertyName Extra -NotePropertyValue 2 -PassThru) } } }
        @{ Scenario = 'a number given a note through another wrapper'; Path = 'write PSSerializer, read Fast'; Make = {
                # A number computed, not typed: PowerShell shares one boxed value between the same small literals, and a
                # note added to it would show on every such literal for the rest of the session.
                $n = [int]::Parse('5')
                $n | Add-Member -NotePropertyName Extra -NotePropertyValue 1
                [pscustomobject]@{ v = $n } } }
        @{ Scenario = 'an array given a note with Add-Member -InputObject'; Path = 'write Fast, read Fast'; Make = { $a = 1, 2; Add-Member -InputObject $a -NotePropertyName Extra -NotePropertyValue 1; [pscustomobject]@{ a = $a } } }
        @{ Scenario = 'a number that keeps its literal text'; Path = 'write PSSerializer, read Fast'; Make = { [pscustomobject]@{ v = (Write-Output 0x10) } } }
        @{ Scenario = 'a PSStandardMembers member set'; Path = 'write PSSerializer, read PSSerializer'; Make = {
                $o = [pscustomobject]@{ a = 1; b = 2 }
                $o | Add-Member -MemberType MemberSet -Name PSStandardMembers -Value ([System.Management.Automation.PSMemberInfo[]]@([System.Management.Automation.PSNoteProperty]::new('SerializationMethod', 'String')))
                $o } }
        @{ Scenario = 'objects whose members were listed'; Path = 'write Fast, read Fast'; Make = { foreach ($i in 1..3) { $o = [pscustomobject]@{ i = $i; s = "$i" }; $null = $o.PSObject.Properties.Name; $null = $o | Get-Member; $o } } }
        @{ Scenario = 'a custom type name'; Path = 'write Fast, read Fast'; Make = { [pscustomobject]@{ PSTypeName = 'PSSharedMemory.Tests.Custom'; a = 1 }; [pscustomobject]@{ PSTypeName = 'PSSharedMemory.Tests.Other'; b = 2 } } }
        @{ Scenario = 'a type name with a script property in the type data'; Path = 'write PSSerializer, read Fast'; Make = {
                Update-TypeData -TypeName 'PSSharedMemory.Tests.Scripted' -MemberType ScriptProperty -MemberName Doubled -Value { $this.n * 2 } -Force
                [pscustomobject]@{ PSTypeName = 'PSSharedMemory.Tests.Scripted'; n = 21 } } }
        @{ Scenario = 'the same object twice'; Path = 'write Fast, read Fast'; Make = { $o = [pscustomobject]@{ a = 1 }; $o; $o; [pscustomobject]@{ again = $o; list = @($o, $o) } } }
        @{ Scenario = 'an object that holds itself'; Path = 'write Fast, read Fast'; Make = { $o = [pscustomobject]@{ a = 1 }; $o | Add-Member -NotePropertyName Self -NotePropertyValue $o; $o } }
        @{ Scenario = 'objects mixed with plain values'; Path = 'write Fast, read Fast'; Make = { [pscustomobject]@{ a = 1 }; 'text'; 5; [guid]::Empty } }
        @{ Scenario = 'objects read back and written again'; Path = 'write Fast, read Fast'; Make = { [System.Management.Automation.PSSerializer]::DeserializeAsList([System.Management.Automation.PSSerializer]::Serialize(@([pscustomobject]@{ a = 1; h = @{ k = 'v' } }), 2)) | ForEach-Object { $_ } } }
        @{ Scenario = 'Get-Process objects (as Import-Clixml gives them)'; Path = 'write PSSerializer, read PSSerializer'; Make = { [System.Management.Automation.PSSerializer]::DeserializeAsList([System.Management.Automation.PSSerializer]::Serialize(@(Get-Process -Id $PID), 2)) | ForEach-Object { $_ } } }
        @{ Scenario = 'Get-ChildItem files and directories'; Path = 'write PSSerializer, read PSSerializer'; Make = {
                $null = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'gci/sub') -Force
                'one' | Set-Content -LiteralPath (Join-Path $TestDrive 'gci/a.txt')
                'two' | Set-Content -LiteralPath (Join-Path $TestDrive 'gci/sub/b.log')
                Get-ChildItem -LiteralPath (Join-Path $TestDrive 'gci') -Recurse } }
        @{ Scenario = 'Get-ChildItem properties chosen with Select-Object'; Path = 'write PSSerializer, read PSSerializer'; Make = {
                'one' | Set-Content -LiteralPath (Join-Path $TestDrive 'select.txt')
                Get-ChildItem -LiteralPath $TestDrive -Filter 'select.txt' | Select-Object Name, Length, LastWriteTime, Attributes, Directory } }
    ) {
        if ($Scenario -like 'Get-Process*' -and $IsWindows -and (Test-Path -LiteralPath 'HKLM:\Software\Wine')) {
            # Serializing a Process reads every property, and under Wine 8 one of them never returns.
            Set-ItResult -Skipped -Because 'under Wine 8, serializing a Process object with PSSerializer does not return'
            return
        }
        $name = New-TestSegmentName 'write'
        $objects = @(& $Make)
        # What Export-Clixml then Import-Clixml would give, made afresh for each comparison: looking at an object's
        # members adds hidden ones, which change how PSSerializer writes it again.
        $xml = [System.Management.Automation.PSSerializer]::Serialize($objects, 2)
        $expected = { [System.Management.Automation.PSSerializer]::DeserializeAsList($xml) | ForEach-Object { $_ } }

        $objects | Write-SharedMemory -Name $name
        Assert-SameObjects (Read-SharedMemory -Name $name) (& $expected)

        Assert-CliXmlPath $Path { Write-SharedMemory -Name $name -Value $objects; Assert-SameObjects (Read-SharedMemory -Name $name) (& $expected) }

        # What a message holds comes back the same way.
        $queue = New-SharedMemory -Name (New-TestSegmentName 'write') -Queue -Size 1MB
        Send-SharedMemoryMessage -InputObject $queue -Value $objects
        Assert-SameObjects (Receive-SharedMemoryMessage -InputObject $queue) (& $expected)
        Remove-SharedMemory -InputObject $queue
    }

    It 'keeps objects at -Depth <Depth> as PSSerializer would: <Scenario>' -TestCases @(
        @{ Scenario = 'nested PSCustomObjects'; Depth = 1; Path = 'write Fast, read Fast'; Make = { [pscustomobject]@{ a = [pscustomobject]@{ b = [pscustomobject]@{ c = @{ d = @(1, [pscustomobject]@{ e = 2 }) } } } } } }
        @{ Scenario = 'nested PSCustomObjects'; Depth = 3; Path = 'write Fast, read Fast'; Make = { [pscustomobject]@{ a = [pscustomobject]@{ b = [pscustomobject]@{ c = 1 } } } } }
        @{ Scenario = 'a directory in a PSCustomObject'; Depth = 1; Path = 'write PSSerializer, read PSSerializer'; Make = { [pscustomobject]@{ Dir = [IO.DirectoryInfo]::new($TestDrive) } } }
    ) {
        $name = New-TestSegmentName 'write'
        $objects = @(& $Make)
        $expected = [System.Management.Automation.PSSerializer]::DeserializeAsList([System.Management.Automation.PSSerializer]::Serialize($objects, $Depth)) | ForEach-Object { $_ }
        Assert-CliXmlPath $Path { Write-SharedMemory -Name $name -Value $objects -Depth $Depth; Assert-SameObjects (Read-SharedMemory -Name $name) $expected }
    }

    It 'writes and reads plain PSCustomObjects without PSSerializer, piped or given to -Value' {
        if (-not (Test-CliXmlPathChecked)) { Set-ItResult -Skipped -Because $script:CliXmlPathUnchecked }
        $name = New-TestSegmentName 'write'
        $objects = foreach ($i in 1..50) { [pscustomobject]@{ Id = $i; Name = "n$i"; When = [datetime]::UtcNow; Tags = 'a', 'b'; Meta = @{ k = $i } } }
        Get-CliXmlPath { $objects | Write-SharedMemory -Name $name } | Should -Be 'write Fast, read none'
        Get-CliXmlPath { $null = Read-SharedMemory -Name $name } | Should -Be 'write none, read Fast'
        Get-CliXmlPath { Write-SharedMemory -Name $name -Value $objects } | Should -Be 'write Fast, read none'
        Get-CliXmlPath { $null = Read-SharedMemory -Name $name } | Should -Be 'write none, read Fast'
        $queue = New-SharedMemory -Name (New-TestSegmentName 'write') -Queue -Size 1MB
        Get-CliXmlPath { $objects | Send-SharedMemoryMessage -InputObject $queue } | Should -Be 'write Fast, read none'
        Get-CliXmlPath { $null = Receive-SharedMemoryMessage -InputObject $queue -All } | Should -Be 'write none, read Fast'
        Remove-SharedMemory -InputObject $queue
    }

    It 'keeps characters outside ASCII in objects of any length, piped or given to -Value' {
        # The module's CliXml goes to UTF-8 in slices of 8192 characters: text of 2- and 3-byte characters
        # over many slices, at both parities, and a character outside the BMP (which CliXml escapes).
        $name = New-TestSegmentName 'write'
        $emoji = [char]::ConvertFromUtf32(0x1F600)
        $objects = foreach ($prefix in '', 'x') { [pscustomobject]@{ Text = $prefix + ('é€' * 9000) + $emoji + 'Ünïcødé' } }
        $objects | Write-SharedMemory -Name $name
        $back = @(Read-SharedMemory -Name $name)
        $back.Count | Should -Be 2
        $back[0].Text | Should -BeExactly $objects[0].Text
        $back[1].Text | Should -BeExactly $objects[1].Text
        Write-SharedMemory -Name $name -Value $objects[1]
        (Read-SharedMemory -Name $name).Text | Should -BeExactly $objects[1].Text
        # Valid UTF-8 throughout (a strict decoder throws on anything else), of exactly the stored length.
        $strict = [Text.UTF8Encoding]::new($false, $true)
        $stored = Read-SharedMemory -Name $name -AsByteStream
        $stored.Length | Should -Be (Get-SharedMemory -Name $name).Length
        $strict.GetString($stored) | Should -BeLike '*é€é€*Ünïcødé*'
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
