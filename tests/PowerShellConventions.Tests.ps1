# The module behaves as the built-in cmdlets do: one Describe per numbered item of issue 12.

BeforeDiscovery {
    # Item 8's test cases come from the module's format data: the module is imported for discovery too.
    . $PSScriptRoot/common.ps1
}

BeforeAll {
    . $PSScriptRoot/common.ps1
}

AfterAll {
    foreach ($scope in 'User', 'Global') {
        Get-SharedMemory 'conv-*' -Scope $scope -ErrorAction SilentlyContinue | Where-Object Name -Match '^conv-[0-9a-f]{12}' | Remove-SharedMemory -Confirm:$false
    }
}

Describe '1. Paths are file-system paths only' {
    BeforeAll {
        $script:name = New-TestSegmentName 'conv'
        Write-SharedMemory -Name $name -Value ([byte[]](1, 2, 3))
    }

    It 'refuses <Provider> paths in <Cmdlet> -<Parameter> with ReadWriteFileNotFileSystemProvider' -TestCases @(
        foreach ($provider in @(
                @{ Provider = 'Variable'; Path = 'Variable:/convx' }
                @{ Provider = 'Env'; Path = 'Env:/HOME' }
                @{ Provider = 'Function'; Path = 'Function:/prompt' }
                @{ Provider = 'Alias'; Path = 'Alias:/gci' }
                @{ Provider = 'Cert'; Path = 'Cert:/CurrentUser' }
            )) {
            @{ Cmdlet = 'Read-SharedMemory'; Parameter = 'OutFile' } + $provider
            @{ Cmdlet = 'Write-SharedMemory'; Parameter = 'InFile' } + $provider
            @{ Cmdlet = 'Write-SharedMemory'; Parameter = 'LiteralPath' } + $provider
        }
    ) {
        if (-not (Get-PSDrive -Name ($Path -split ':')[0] -ErrorAction SilentlyContinue)) {
            Set-ItResult -Skipped -Because "this pwsh has no $Provider drive"
            return
        }
        $before = @(Get-ChildItem -LiteralPath ([Environment]::CurrentDirectory) -Force -ErrorAction SilentlyContinue).Count
        $arguments = @{ Name = $name; $Parameter = $Path }
        { & $Cmdlet @arguments } | Should -Throw -ErrorId "ReadWriteFileNotFileSystemProvider,PSSharedMemory.Commands.$($Cmdlet -replace '-', '')Command"
        $err = try { & $Cmdlet @arguments } catch { $_ }
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.TargetObject | Should -Be $Path
        # Nothing lands in the process's working folder, which is not the session's location.
        @(Get-ChildItem -LiteralPath ([Environment]::CurrentDirectory) -Force -ErrorAction SilentlyContinue).Count | Should -Be $before
        (Read-SharedMemory $name) -join ',' | Should -Be '1,2,3'
    }

    It 'resolves relative paths against the session location and through PSDrives' {
        $folder = Join-Path $TestDrive 'here'
        $null = New-Item -ItemType Directory -Path $folder
        Push-Location $folder
        try {
            Read-SharedMemory $name -OutFile ./out.bin
            $null = New-PSDrive -Name convdrive -PSProvider FileSystem -Root $folder
            Write-SharedMemory (New-TestSegmentName 'conv') -InFile convdrive:/out.bin -PassThru | ForEach-Object Length | Should -Be 3
            Read-SharedMemory $name -OutFile convdrive:/viadrive.bin
        }
        finally {
            Remove-PSDrive -Name convdrive -ErrorAction SilentlyContinue
            Pop-Location
        }
        [IO.File]::ReadAllBytes((Join-Path $folder 'out.bin')) -join ',' | Should -Be '1,2,3'
        [IO.File]::ReadAllBytes((Join-Path $folder 'viadrive.bin')) -join ',' | Should -Be '1,2,3'
    }
}

Describe '2. A piped value never names a segment' {
    It 'fails without -Name and creates nothing: Get-ChildItem | Write-SharedMemory' {
        $names = 1..3 | ForEach-Object { New-TestSegmentName 'conv' }
        $folder = Join-Path $TestDrive 'files'
        $null = New-Item -ItemType Directory -Path $folder
        foreach ($file in $names) { Set-Content -LiteralPath (Join-Path $folder $file) -Value 'data' }
        { Get-ChildItem -LiteralPath $folder | Write-SharedMemory } |
            Should -Throw -ErrorId 'NameRequired,PSSharedMemory.Commands.WriteSharedMemoryCommand'
        foreach ($file in $names) { Get-SharedMemory $file -ErrorAction SilentlyContinue | Should -BeNullOrEmpty }
    }

    It 'does not let an object with a Name property choose the segment for <Cmdlet>' -TestCases @(
        @{ Cmdlet = 'Remove-SharedMemory' }
        @{ Cmdlet = 'Lock-SharedMemory' }
        @{ Cmdlet = 'Unlock-SharedMemory' }
        @{ Cmdlet = 'Read-SharedMemory' }
        @{ Cmdlet = 'Receive-SharedMemoryMessage' }
        @{ Cmdlet = 'New-SharedMemory' }
        @{ Cmdlet = 'Get-SharedMemory' }
        @{ Cmdlet = 'Wait-SharedMemory' }
        @{ Cmdlet = 'Register-SharedMemoryEvent' }
    ) {
        $existing = New-TestSegmentName 'conv'
        'keep' | Write-SharedMemory -Name $existing
        $missing = New-TestSegmentName 'conv'
        { [pscustomobject]@{ Name = $existing }, [pscustomobject]@{ Name = $missing } | & $Cmdlet -ErrorAction Stop } |
            Should -Throw -ErrorId "ParameterArgumentTransformationError,PSSharedMemory.Commands.$($Cmdlet -replace '-', '')Command"
        Read-SharedMemory $existing | Should -Be 'keep'
        (Get-SharedMemory $existing).Version | Should -Be 1
        Get-SharedMemory $missing -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'still takes segment objects, live and deserialized, and piped name strings' {
        $name = New-TestSegmentName 'conv'
        $seg = New-SharedMemory $name
        $seg | Write-SharedMemory -Value 'live'
        Get-SharedMemory $name | Read-SharedMemory | Should -Be 'live'
        $name | Read-SharedMemory | Should -Be 'live'
        $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($seg))
        $copy.PSTypeNames[0] | Should -Be 'Deserialized.PSSharedMemory.SharedMemoryInfo'
        $copy | Write-SharedMemory -Value 'from a copy'
        $copy | Read-SharedMemory | Should -Be 'from a copy'
        Start-Job { $using:seg | Write-SharedMemory -Value 'from a job'; $using:seg | Read-SharedMemory } | Receive-Job -Wait -AutoRemoveJob | Should -Be 'from a job'
    }

    It 'refuses a segment object together with -Name' {
        $seg = New-SharedMemory (New-TestSegmentName 'conv')
        { $seg | Write-SharedMemory -Name (New-TestSegmentName 'conv') -InFile $PSCommandPath } |
            Should -Throw -ErrorId 'ConflictingParameters,PSSharedMemory.Commands.WriteSharedMemoryCommand'
    }
}

Describe '3. Piped strings are stored as text' {
    It 'stores the lines of a file as Set-Content would, and reads them back as one string or as lines' {
        $name = New-TestSegmentName 'conv'
        $file = Join-Path $TestDrive 'lines.txt'
        [IO.File]::WriteAllText($file, "first line`nsecond, with ünïcode`n`nlast`n")
        Get-Content -LiteralPath $file | Write-SharedMemory -Name $name
        $seg = Get-SharedMemory $name
        $seg.ContentType | Should -Be 'Text'
        $seg.Length | Should -Be (Get-Item -LiteralPath $file).Length
        Read-SharedMemory $name | Should -BeExactly ([IO.File]::ReadAllText($file))
        $lines = Read-SharedMemory $name -Lines
        $lines | Should -Be (Get-Content -LiteralPath $file)
        $lines.Count | Should -Be 4
    }

    It 'keeps mixed input as CliXml' {
        $name = New-TestSegmentName 'conv'
        'a', 1, 'b' | Write-SharedMemory -Name $name
        (Get-SharedMemory $name).ContentType | Should -Be 'CliXml'
        Read-SharedMemory $name | Should -Be 'a', 1, 'b'
    }
}

Describe '4. -WhatIf and -Confirm where a segment is created or overwritten' {
    It '<Cmdlet> -WhatIf creates nothing' -TestCases @(
        @{ Cmdlet = 'New-SharedMemory'; Arguments = @{} }
        @{ Cmdlet = 'Write-SharedMemory'; Arguments = @{ Value = 'x' } }
        @{ Cmdlet = 'Lock-SharedMemory'; Arguments = @{ ScriptBlock = { 'ran' } } }
    ) {
        $name = New-TestSegmentName 'conv'
        & $Cmdlet -Name $name @Arguments -WhatIf | Should -BeNullOrEmpty
        Get-SharedMemory $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'Write-SharedMemory -WhatIf keeps the payload of <Scenario>' -TestCases @(
        @{ Scenario = 'a segment named'; Piped = $false }
        @{ Scenario = 'a piped segment object'; Piped = $true }
    ) {
        $name = New-TestSegmentName 'conv'
        Write-SharedMemory $name 'old'
        if ($Piped) { Get-SharedMemory $name | Write-SharedMemory -Value 'new' -WhatIf }
        else { 'new', 'lines' | Write-SharedMemory -Name $name -WhatIf }
        Read-SharedMemory $name | Should -Be 'old'
        (Get-SharedMemory $name).Version | Should -Be 1
    }

    It 'Write-SharedMemory asks when $ConfirmPreference is Medium, and a No keeps the payload' {
        $name = New-TestSegmentName 'conv'
        Write-SharedMemory $name 'old'
        # A non-interactive child cannot answer the question, so asking fails the write instead of doing it.
        $out = Invoke-ChildPwsh -Script @"
`$ConfirmPreference = 'Medium'
try { Write-SharedMemory -Name $name -Value 'new' -ErrorAction Stop; 'written' } catch { `$_.FullyQualifiedErrorId }
Read-SharedMemory $name
"@
        $out[-1] | Should -Be 'old'
        $out[0] | Should -Not -Be 'written'
    }
}

Describe '5. Completion offers segment names' {
    BeforeAll {
        $script:prefix = 'conv-' + [guid]::NewGuid().ToString('N').Substring(0, 12)
        $script:userSeg = "$prefix-user"
        $script:globalSeg = "$prefix-global"
        Write-SharedMemory $userSeg 'u'
        $script:haveGlobal = $true
        try { Write-SharedMemory $globalSeg 'g' -Scope Global -ErrorAction Stop } catch { $script:haveGlobal = $false }
        # A file that starts like the segments: file completion would offer it.
        $script:folder = Join-Path $TestDrive 'completion'
        $null = New-Item -ItemType Directory -Path $folder
        Set-Content -LiteralPath (Join-Path $folder "$prefix-file.txt") -Value 'x'
        function script:Complete([string] $Line) {
            Push-Location $folder
            try { @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches | ForEach-Object CompletionText) }
            finally { Pop-Location }
        }
    }

    AfterAll {
        Remove-SharedMemory $userSeg -ErrorAction SilentlyContinue
        Remove-SharedMemory $globalSeg -Scope Global -ErrorAction SilentlyContinue
    }

    It 'completes position 0 of <Cmdlet> with segment names, not files' -TestCases @(
        @{ Cmdlet = 'Lock-SharedMemory' }, @{ Cmdlet = 'Unlock-SharedMemory' }, @{ Cmdlet = 'Read-SharedMemory' }, @{ Cmdlet = 'Get-SharedMemory' }, @{ Cmdlet = 'Remove-SharedMemory' }
        @{ Cmdlet = 'Wait-SharedMemory' }, @{ Cmdlet = 'Register-SharedMemoryEvent' }
    ) {
        # Nothing typed yet: where PowerShell cannot tell which parameter position 0 is, it offers files.
        $matches = Complete "$Cmdlet "
        $matches | Should -Contain $userSeg
        $matches | Where-Object { $_ -like '*file*' } | Should -BeNullOrEmpty
    }

    It 'completes New-SharedMemory -Name with the names taken, never with files' {
        $matches = Complete "New-SharedMemory -Name $prefix"
        $matches | Should -Contain $userSeg
        $matches | Where-Object { $_ -like '*file*' } | Should -BeNullOrEmpty
        Complete "New-SharedMemory -Name $prefix-fi" | Where-Object { $_ -like '*file*' } | Should -BeNullOrEmpty
    }

    It 'completes in the scope the command line names' {
        if (-not $haveGlobal) { Set-ItResult -Skipped -Because 'the global store is not usable here'; return }
        Complete "Read-SharedMemory -Scope Global -Name $prefix" | Should -Be @($globalSeg)
        Complete "Get-SharedMemory -Scope All -Name $prefix" | Sort-Object | Should -Be (@($globalSeg, $userSeg) | Sort-Object)
        Complete "Read-SharedMemory -Name $prefix" | Should -Be @($userSeg)
    }
}

Describe '6. Scopes' {
    BeforeAll {
        $script:name = New-TestSegmentName 'conv'
        Write-SharedMemory $name 'in user'
        $script:haveGlobal = $true
        try { Write-SharedMemory $name 'in global' -Scope Global -ErrorAction Stop } catch { $script:haveGlobal = $false }
    }

    BeforeEach {
        if (-not $haveGlobal) { Set-ItResult -Skipped -Because 'the global store is not usable here' }
    }

    It 'Get-SharedMemory -Scope <Scope> lists both scopes' -TestCases @(
        @{ Scope = @('User', 'Global') }, @{ Scope = @('All') }
    ) {
        if (-not $haveGlobal) { return }
        (Get-SharedMemory $name -Scope $Scope).Scope | Sort-Object | Should -Be 'User', 'Global'
        (Get-SharedMemory 'conv-*' -Scope $Scope | Where-Object Name -eq $name).Scope | Sort-Object | Should -Be 'User', 'Global'
    }

    It 'honours the Scope of a piped <Form> segment object in every cmdlet' -TestCases @(
        @{ Form = 'live' }, @{ Form = 'deserialized' }
    ) {
        if (-not $haveGlobal) { return }
        Write-SharedMemory $name 'in global' -Scope Global
        $seg = Get-SharedMemory $name -Scope Global
        if ($Form -eq 'deserialized') { $seg = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($seg)) }
        $seg | Read-SharedMemory | Should -Be 'in global'
        ($seg | Get-SharedMemory).Scope | Should -Be 'Global'
        ($seg | Write-SharedMemory -Value "global via $Form" -PassThru).Scope | Should -Be 'Global'
        ($seg | Lock-SharedMemory -PassThru).Scope | Should -Be 'Global'
        ($seg | Unlock-SharedMemory -PassThru).Scope | Should -Be 'Global'
        $seg | Lock-SharedMemory { Read-SharedMemory $name -Scope Global } | Should -Be "global via $Form"
        Read-SharedMemory $name | Should -Be 'in user'
    }

    AfterAll {
        Remove-SharedMemory $name -Scope Global -ErrorAction SilentlyContinue
    }
}

Describe '7. Help' {
    It 'Get-Help <Cmdlet> -Online opens its page in the project repository' -TestCases @(
        Get-Command -Module PSSharedMemory -CommandType Cmdlet | ForEach-Object { @{ Cmdlet = $_.Name } }
    ) {
        if (-not $IsLinux) { Set-ItResult -Skipped -Because 'the stand-in browser is an xdg-open script'; return }
        # A stand-in for the browser: .NET opens URLs with the first xdg-open on PATH.
        $bin = Join-Path $TestDrive "browser-$Cmdlet"
        $null = New-Item -ItemType Directory -Path $bin
        $opened = Join-Path $bin 'opened.txt'
        Set-Content -LiteralPath (Join-Path $bin 'xdg-open') -Value "#!/bin/sh`nprintf '%s' `"`$1`" > '$opened'"
        chmod +x (Join-Path $bin 'xdg-open')
        $null = Invoke-ChildPwsh -Script "`$env:PATH = '$bin' + [IO.Path]::PathSeparator + `$env:PATH; Get-Help $Cmdlet -Online; 'ok'"
        $url = Get-Content -LiteralPath $opened -Raw
        $project = (Import-PowerShellDataFile (Join-Path $PSScriptRoot '../PSSharedMemory.psd1')).PrivateData.PSData.ProjectUri
        $url | Should -Be "$project/blob/main/docs/en-US/$Cmdlet.md"
        Join-Path $PSScriptRoot "../docs/en-US/$Cmdlet.md" | Should -Exist
    }

    It 'gives about_PSSharedMemory a synopsis in Get-Help *SharedMemory*' {
        $about = Get-Help *SharedMemory* | Where-Object Name -eq 'about_PSSharedMemory'
        $about | Should -Not -BeNullOrEmpty
        $about.Synopsis | Should -Match 'shared memory'
    }

    It 'explains PSSHAREDMEMORY_STORE and the scopes in <Where>' -TestCases @(
        @{ Where = 'the about topic' }, @{ Where = 'the README' }
    ) {
        $text = if ($Where -eq 'the README') { Get-Content -Raw (Join-Path $PSScriptRoot '../README.md') } else { Get-Help about_PSSharedMemory | Out-String }
        $text | Should -Match 'PSSHAREDMEMORY_STORE'
        $text | Should -Match '-Scope Global'
        $text | Should -Match 'User'
    }
}

Describe '8. The default table shows real properties' {
    It 'has a property for every column, so Select-Object <Column> gives the value shown' -TestCases @(
        foreach ($label in (Get-FormatData -TypeName PSSharedMemory.SharedMemoryInfo).FormatViewDefinition[0].Control.Headers.Label) { @{ Column = $label } }
    ) {
        $name = New-TestSegmentName 'conv'
        $seg = Write-SharedMemory $name 'x' -PassThru
        $seg.PSObject.Properties[$Column] | Should -Not -BeNullOrEmpty -Because "the table shows a $Column column"
        ($seg | Select-Object $Column).$Column | Should -Not -BeNullOrEmpty
        $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($seg))
        $copy.$Column | Should -Not -BeNullOrEmpty
    }

    It 'shows the last writer as LastWriter, the process id' {
        $seg = Write-SharedMemory (New-TestSegmentName 'conv') 'x' -PassThru
        ($seg | Select-Object LastWriter).LastWriter | Should -Be $PID
        @($seg | Where-Object LastWriter -eq $PID).Count | Should -Be 1
    }
}

Describe '9. Parameter names follow the built-ins' {
    It 'Read-SharedMemory -AsByteStream returns bytes, and -AsByteArray still does' {
        $name = New-TestSegmentName 'conv'
        Write-SharedMemory $name 'AB'
        $bytes = Read-SharedMemory $name -AsByteStream
        $bytes.GetType() | Should -Be ([byte[]])
        $bytes -join ',' | Should -Be '65,66'
        (Read-SharedMemory $name -AsByteArray) -join ',' | Should -Be '65,66'
    }

    It 'Write-SharedMemory reads the source file from -InFile, and -Path still works' {
        $name = New-TestSegmentName 'conv'
        $file = Join-Path $TestDrive 'in.bin'
        [IO.File]::WriteAllBytes($file, [byte[]](5, 6))
        Write-SharedMemory $name -InFile $file
        (Read-SharedMemory $name) -join ',' | Should -Be '5,6'
        [IO.File]::WriteAllBytes($file, [byte[]](7))
        Write-SharedMemory $name -Path $file
        (Read-SharedMemory $name) -join ',' | Should -Be '7'
    }
}
