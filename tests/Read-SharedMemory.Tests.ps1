BeforeAll {
    . $PSScriptRoot/common.ps1
}

Describe 'Read-SharedMemory' {
    AfterAll {
        Get-SharedMemory 'read-*' | Where-Object Name -Match '^read-[0-9a-f]{12}' | Remove-SharedMemory -Confirm:$false
    }

    It 'returns a string as one [string]' {
        $name = New-TestSegmentName 'read'
        "line1`nline2" | Write-SharedMemory $name
        $read = Read-SharedMemory -Name $name
        $read | Should -BeOfType string
        $read | Should -BeExactly "line1`nline2"
    }

    It 'returns nothing for a segment never written' {
        $name = New-TestSegmentName 'read'
        $null = New-SharedMemory $name
        @(Read-SharedMemory $name).Count | Should -Be 0
        Read-SharedMemory $name -AsText | Should -BeExactly ''
        (Read-SharedMemory $name -AsByteArray).Length | Should -Be 0
    }

    It 'returns -AsByteArray as one [byte[]] whatever was stored' {
        $name = New-TestSegmentName 'read'
        'abc' | Write-SharedMemory $name
        $bytes = Read-SharedMemory $name -AsByteArray
        @(Read-SharedMemory $name -AsByteArray).Count | Should -Be 1
        $bytes.GetType() | Should -Be ([byte[]])
        $bytes -join ',' | Should -Be '97,98,99'
    }

    It 'returns -AsText as the stored UTF-8 text, for CliXml too' {
        $name = New-TestSegmentName 'read'
        Write-SharedMemory $name 42
        Read-SharedMemory $name -AsText | Should -Match '<I32>42</I32>'
        Write-SharedMemory $name ([Text.Encoding]::UTF8.GetBytes('bytes as text'))
        Read-SharedMemory $name -AsText | Should -BeExactly 'bytes as text'
    }

    It 'saves the payload with -OutFile and returns nothing' {
        $name = New-TestSegmentName 'read'
        Write-SharedMemory $name ([byte[]](1..200))
        $target = Join-Path $TestDrive 'out.bin'
        Read-SharedMemory $name -OutFile $target | Should -BeNullOrEmpty
        [IO.File]::ReadAllBytes($target) -join ',' | Should -Be ((1..200) -join ',')
    }

    It 'rejects <Scenario> with ConflictingParameters' -TestCases @(
        @{ Scenario = '-AsText with -AsByteArray'; Splat = @{ AsText = $true; AsByteArray = $true } }
        @{ Scenario = '-AsText with -OutFile'; Splat = @{ AsText = $true; OutFile = 'x.bin' } }
    ) {
        { Read-SharedMemory (New-TestSegmentName 'read') @Splat } | Should -Throw -ErrorId 'ConflictingParameters,PSSharedMemory.Commands.ReadSharedMemoryCommand'
    }

    It 'reports a missing segment with SharedMemoryNotFound' {
        $name = New-TestSegmentName 'read'
        { Read-SharedMemory $name -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemoryNotFound,PSSharedMemory.Commands.ReadSharedMemoryCommand'
        Read-SharedMemory $name -ErrorAction SilentlyContinue -ErrorVariable err
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -BeExactly $name
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'New-SharedMemory'
        ($err[0] | Out-String) | Should -Match 'New-SharedMemory'
        $caught = $null
        try { Read-SharedMemory $name -ErrorAction Stop } catch { $caught = $_ }
        $caught.Exception | Should -BeOfType PSSharedMemory.Engine.SharedMemoryException
    }

    It 'reports a segment removed by another process with SharedMemoryNotFound' {
        $name = New-TestSegmentName 'read'
        'here' | Write-SharedMemory $name
        Read-SharedMemory $name | Should -Be 'here'
        Invoke-ChildPwsh -Script "Remove-SharedMemory $name"
        { Read-SharedMemory $name -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemoryNotFound,PSSharedMemory.Commands.ReadSharedMemoryCommand'
    }

    It 'reports a corrupted payload length with SharedMemoryCorrupted' {
        $name = New-TestSegmentName 'read'
        'good' | Write-SharedMemory $name
        $file = Join-Path ([PSSharedMemory.Engine.SharedMemorySegment]::GetStoreDirectory('User')) "$name.pssm"
        $stream = [IO.File]::Open($file, 'Open', 'ReadWrite', 'ReadWrite')
        try { $stream.Position = 32; $stream.Write([BitConverter]::GetBytes([long]1TB), 0, 8) } finally { $stream.Dispose() }
        { Read-SharedMemory $name -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemoryCorrupted,PSSharedMemory.Commands.ReadSharedMemoryCommand'
        Read-SharedMemory $name -ErrorAction SilentlyContinue -ErrorVariable err
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'Remove-SharedMemory'
        ($err[0] | Out-String) | Should -Match 'Remove-SharedMemory'

        # As the message says, a corrupted segment can be removed by name.
        Remove-SharedMemory $name
        Test-Path -LiteralPath $file | Should -BeFalse
    }

    It 'reports a corrupted header with SharedMemoryCorrupted in a fresh process' {
        $name = New-TestSegmentName 'read'
        'good' | Write-SharedMemory $name
        $file = Join-Path ([PSSharedMemory.Engine.SharedMemorySegment]::GetStoreDirectory('User')) "$name.pssm"
        $stream = [IO.File]::Open($file, 'Open', 'ReadWrite', 'ReadWrite')
        try { $stream.Write([byte[]](0, 0, 0, 0), 0, 4) } finally { $stream.Dispose() }
        Invoke-ChildPwsh -Script "try { Read-SharedMemory $name -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId }" |
            Should -Be 'SharedMemoryCorrupted,PSSharedMemory.Commands.ReadSharedMemoryCommand'
        Remove-SharedMemory $name
        Get-SharedMemory $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'reports invalid CliXml with InvalidCliXml' {
        $name = New-TestSegmentName 'read'
        $seg = [PSSharedMemory.Engine.SharedMemorySegment]::OpenOrCreate($name, 1KB, $null)
        try { $null = $seg.Write([Text.Encoding]::UTF8.GetBytes('<not clixml'), 'CliXml') } finally { $seg.Dispose() }
        { Read-SharedMemory $name -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidCliXml,PSSharedMemory.Commands.ReadSharedMemoryCommand'
        Read-SharedMemory $name -AsText | Should -BeExactly '<not clixml'
    }

    It 'reads CliXml exactly as PSSerializer does, with <Path>: <Scenario>' -TestCases @(
        @{ Scenario = "PSSerializer's own, indented, with shared type names and a reference"; Path = 'the fast reader'; Xml = {
                $o = [pscustomobject]@{ a = 1; when = [datetime]::new(2020, 1, 2, 3, 4, 5, [DateTimeKind]::Utc) }
                [System.Management.Automation.PSSerializer]::Serialize(@($o, [pscustomobject]@{ b = 'x'; list = 1, 2; h = @{ k = $o } }, $o), 2) } }
        @{ Scenario = 'an empty document'; Path = 'the fast reader'; Xml = { '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04" />' } }
        @{ Scenario = 'single quotes, entities and character references'; Path = 'the fast reader'; Xml = {
                "<Objs Version='1.1.0.1' xmlns='http://schemas.microsoft.com/powershell/2004/04'><Obj RefId='0'><TN RefId='0'><T>System.Management.Automation.PSCustomObject</T></TN><MS><S N='a&apos;b'>&lt;&#x41;&#66;&quot;&amp;&gt;</S><S N=`"q&quot;`">&#x1F600; &#9;</S></MS></Obj></Objs>" } }
        @{ Scenario = 'values XmlConvert reads but the writer never writes'; Path = 'the fast reader'; Xml = {
                '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><I32> 5 </I32><I32>+7</I32><I64>0099</I64><B>1</B><B> false </B><Db>1E2</Db><DT>2020-01-02T03:04:05.1+02:00</DT></Objs>' } }
        @{ Scenario = 'type names that already say Deserialized, and an empty one'; Path = 'the fast reader'; Xml = {
                '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj RefId="0"><TN RefId="0"><T>Deserialized.My.Type</T><T></T><T>DESERIALIZED.Other</T></TN><MS><I32 N="a">1</I32></MS></Obj></Objs>' } }
        @{ Scenario = 'notes named like reserved members, and a repeated note'; Path = 'the fast reader'; Xml = {
                '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj RefId="0"><TN RefId="0"><T>X</T></TN><MS><I32 N="psobject">1</I32><I32 N="a">1</I32><S N="A">again</S></MS></Obj></Objs>' } }
        @{ Scenario = 'keys that differ only in case'; Path = 'the fast reader'; Xml = {
                '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj RefId="0"><TN RefId="0"><T>System.Collections.Hashtable</T></TN><DCT><En><S N="Key">a</S><I32 N="Value">1</I32></En><En><S N="Key">A</S><I32 N="Value">2</I32></En></DCT></Obj></Objs>' } }
        @{ Scenario = 'a queue and a stack'; Path = 'the fast reader'; Xml = {
                '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj RefId="0"><TN RefId="0"><T>System.Collections.Queue</T></TN><QUE><I32>1</I32><I32>2</I32></QUE></Obj><Obj RefId="1"><TN RefId="1"><T>System.Collections.Stack</T></TN><STK><I32>3</I32><I32>4</I32></STK></Obj></Objs>' } }
        @{ Scenario = 'a comment'; Path = 'PSSerializer'; Xml = {
                '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><!-- note --><I32>1</I32></Objs>' } }
        @{ Scenario = 'CDATA'; Path = 'PSSerializer'; Xml = {
                '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S><![CDATA[<a&b>]]></S></Objs>' } }
        @{ Scenario = 'a line break that XML normalizes'; Path = 'PSSerializer'; Xml = {
                "<Objs Version=`"1.1.0.1`" xmlns=`"http://schemas.microsoft.com/powershell/2004/04`"><S>a`r`nb`rc</S></Objs>" } }
        @{ Scenario = 'a tab in a property name, which XML turns into a space'; Path = 'PSSerializer'; Xml = {
                "<Objs Version=`"1.1.0.1`" xmlns=`"http://schemas.microsoft.com/powershell/2004/04`"><Obj RefId=`"0`"><TN RefId=`"0`"><T>X</T></TN><MS><I32 N=`"a`tb`">1</I32></MS></Obj></Objs>" } }
        @{ Scenario = 'a deserialized enum (ToString)'; Path = 'the fast reader'; Xml = { [System.Management.Automation.PSSerializer]::Serialize([pscustomobject]@{ Day = [DayOfWeek]::Monday }, 2) } }
        @{ Scenario = 'an object with no type names'; Path = 'PSSerializer'; Xml = {
                '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj RefId="0"><MS><I32 N="a">1</I32></MS></Obj></Objs>' } }
        @{ Scenario = 'an unknown element in a later version'; Path = 'PSSerializer'; Xml = {
                '<Objs Version="1.2.0.0" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj RefId="0"><TN RefId="0"><T>X</T></TN><Future>1</Future><MS><I32 N="a">1</I32></MS></Obj></Objs>' } }
        @{ Scenario = 'text after the document'; Path = 'PSSerializer'; Fails = $true; Xml = { '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><I32>1</I32></Objs>trailing' } }
        @{ Scenario = 'a type the type data converts when deserialized'; Path = 'PSSerializer'; Xml = {
                Update-TypeData -TypeName 'Deserialized.PSSharedMemory.Tests.Rehydrated' -TargetTypeForDeserialization ([string]) -Force
                [System.Management.Automation.PSSerializer]::Serialize([pscustomobject]@{ PSTypeName = 'PSSharedMemory.Tests.Rehydrated'; a = 1 }, 2) } }
        @{ Scenario = 'an unknown element'; Path = 'PSSerializer'; Fails = $true; Xml = {
                '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj RefId="0"><TN RefId="0"><T>X</T></TN><Future>1</Future></Obj></Objs>' } }
        @{ Scenario = 'a reference to no object'; Path = 'PSSerializer'; Fails = $true; Xml = { '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Ref RefId="7" /></Objs>' } }
        @{ Scenario = 'a number that is not one'; Path = 'PSSerializer'; Fails = $true; Xml = { '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><I32>1x</I32></Objs>' } }
        @{ Scenario = 'an element that does not end'; Path = 'PSSerializer'; Fails = $true; Xml = { '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S>open' } }
    ) {
        $name = New-TestSegmentName 'read'
        $xml = & $Xml
        $seg = [PSSharedMemory.Engine.SharedMemorySegment]::OpenOrCreate($name, 64KB, $null)
        try { $null = $seg.Write([Text.Encoding]::UTF8.GetBytes($xml), 'CliXml') } finally { $seg.Dispose() }
        $expected = { [System.Management.Automation.PSSerializer]::DeserializeAsList($xml) | ForEach-Object { $_ } }
        $before = Get-CliXmlCounts
        if ($Fails) {
            { & $expected } | Should -Throw
            { Read-SharedMemory $name -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidCliXml,PSSharedMemory.Commands.ReadSharedMemoryCommand'
        }
        else {
            Assert-SameObjects (Read-SharedMemory $name) (& $expected)
        }
        $after = Get-CliXmlCounts
        if (Test-CliXmlPathChecked) {
            $(if ($after.FastReads -gt $before.FastReads) { 'the fast reader' } else { 'PSSerializer' }) | Should -Be $Path
        }
    }

    It 'leaves a dictionary with the same key twice to PSSerializer, which keeps both entries' {
        # PSSerializer then compares the keys by reference, so the entries' order is not the same from one read to the next.
        $name = New-TestSegmentName 'read'
        $xml = '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj RefId="0"><TN RefId="0"><T>System.Collections.Hashtable</T></TN><DCT><En><S N="Key">a</S><I32 N="Value">1</I32></En><En><S N="Key">a</S><I32 N="Value">2</I32></En></DCT></Obj></Objs>'
        $seg = [PSSharedMemory.Engine.SharedMemorySegment]::OpenOrCreate($name, 4KB, $null)
        try { $null = $seg.Write([Text.Encoding]::UTF8.GetBytes($xml), 'CliXml') } finally { $seg.Dispose() }
        $before = Get-CliXmlCounts
        $read = Read-SharedMemory $name
        $after = Get-CliXmlCounts
        $read.Count | Should -Be 2
        @($read.Values | Sort-Object) -join ',' | Should -Be '1,2'
        if (Test-CliXmlPathChecked) { $after.FallbackReads - $before.FallbackReads | Should -Be 1 }
    }

    Context '-Wait' {
        It 'returns after the next write of another process' {
            $name = New-TestSegmentName 'read'
            'old' | Write-SharedMemory $name
            $reader = Start-Runspace "Read-SharedMemory $name -Wait -Timeout 60"
            try {
                # Once the reader is counted as waiting, one write of another process must wake it.
                Wait-SegmentWaiter -Name $name -Word Change -Abandon { $reader.Async.IsCompleted }
                Invoke-ChildPwsh -Script "'new' | Write-SharedMemory $name; 'written'" | Should -Be 'written'
                $reader.PowerShell.EndInvoke($reader.Async) | Should -Be 'new'
            }
            finally { $reader.PowerShell.Dispose() }
        }

        It 'waits for a segment that does not exist yet to be created and written' {
            $name = New-TestSegmentName 'read'
            $reader = Start-Runspace "Read-SharedMemory $name -Wait -Timeout 60"
            try {
                $deadline = [datetime]::UtcNow.AddSeconds(60)
                while (-not $reader.Async.IsCompleted -and [datetime]::UtcNow -lt $deadline) {
                    'created' | Write-SharedMemory $name
                    Start-Sleep -Milliseconds 50
                }
                $reader.PowerShell.EndInvoke($reader.Async) | Should -Be 'created'
            }
            finally { $reader.PowerShell.Dispose() }
        }

        It 'does not miss a write that landed between two waits of a loop' {
            $name = New-TestSegmentName 'read'
            'one' | Write-SharedMemory $name
            Read-SharedMemory $name | Should -Be 'one'

            # Another process writes while this session is busy elsewhere, not waiting.
            $null = Invoke-ChildPwsh -Script "'two' | Write-SharedMemory $name"
            Read-SharedMemory $name -Wait -Timeout 30 | Should -Be 'two'

            # Nothing newer than what this session has read: the next wait waits.
            { Read-SharedMemory $name -Wait -Timeout 0.3 -ErrorAction Stop } | Should -Throw -ErrorId 'WaitTimeout,PSSharedMemory.Commands.ReadSharedMemoryCommand'
        }

        It 'does not return this session''s own write' {
            $name = New-TestSegmentName 'read'
            'mine' | Write-SharedMemory $name
            { Read-SharedMemory $name -Wait -Timeout 0.3 -ErrorAction Stop } | Should -Throw -ErrorId 'WaitTimeout,PSSharedMemory.Commands.ReadSharedMemoryCommand'
        }

        It 'returns at once for a piped segment object older than the segment' {
            $name = New-TestSegmentName 'read'
            $seg = New-SharedMemory $name
            'since' | Write-SharedMemory $name
            $seg | Read-SharedMemory -Wait -Timeout 30 | Should -Be 'since'
        }

        It 'fails with WaitTimeout after -Timeout <Scenario>' -TestCases @(
            @{ Scenario = 'for an existing segment'; Exists = $true }
            @{ Scenario = 'for a missing segment'; Exists = $false }
        ) {
            $name = New-TestSegmentName 'read'
            if ($Exists) { 'x' | Write-SharedMemory $name }
            { Read-SharedMemory $name -Wait -Timeout 0.2 -ErrorAction Stop } | Should -Throw -ErrorId 'WaitTimeout,PSSharedMemory.Commands.ReadSharedMemoryCommand'
            Read-SharedMemory $name -Wait -Timeout 0.1 -ErrorAction SilentlyContinue -ErrorVariable err
            $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        }

        It 'fails with SharedMemoryRemoved when the segment is removed during the wait' {
            $name = New-TestSegmentName 'read'
            'x' | Write-SharedMemory $name
            $reader = Start-Runspace "try { Read-SharedMemory $name -Wait -Timeout 60 -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId }"
            try {
                # The wait must be in progress when the segment goes.
                Wait-SegmentWaiter -Name $name -Word Change -Abandon { $reader.Async.IsCompleted }
                Remove-SharedMemory $name
                $reader.PowerShell.EndInvoke($reader.Async) | Should -Be 'SharedMemoryRemoved,PSSharedMemory.Commands.ReadSharedMemoryCommand'
            }
            finally { $reader.PowerShell.Dispose() }
        }

        It 'ends promptly when the pipeline is stopped (Ctrl+C)' {
            $name = New-TestSegmentName 'read'
            'x' | Write-SharedMemory $name
            $reader = Start-Runspace "Read-SharedMemory $name -Wait"
            try {
                Wait-SegmentWaiter -Name $name -Word Change -Abandon { $reader.Async.IsCompleted }
                # The wait has no timeout: only the stop can end it.
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
    }

    It 'takes the segment by name, by pipeline string, by object and by a deserialized object' {
        $name = New-TestSegmentName 'read'
        'all ways' | Write-SharedMemory $name
        $seg = Get-SharedMemory $name
        $deserialized = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($seg))
        $deserialized.PSTypeNames[0] | Should -Be 'Deserialized.PSSharedMemory.SharedMemoryInfo'
        Read-SharedMemory $name | Should -Be 'all ways'
        $name | Read-SharedMemory | Should -Be 'all ways'
        $seg | Read-SharedMemory | Should -Be 'all ways'
        Read-SharedMemory -InputObject $seg | Should -Be 'all ways'
        $deserialized | Read-SharedMemory | Should -Be 'all ways'
        { [pscustomobject]@{ Name = $name } | Read-SharedMemory } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,PSSharedMemory.Commands.ReadSharedMemoryCommand'
    }
}
