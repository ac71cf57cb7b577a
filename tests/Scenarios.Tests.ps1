# The seven usage scenarios the module is built for, each between real separate pwsh processes where two are named.
BeforeAll {
    . $PSScriptRoot/common.ps1
}

Describe 'Scenarios' {
    AfterAll {
        Get-SharedMemory 'scn-*' | Where-Object Name -Match '^scn-[0-9a-f]{12}' | Remove-SharedMemory -Confirm:$false
    }

    It '1. A writes a string, B reads it as a [string]' {
        $name = New-TestSegmentName 'scn'
        $null = New-SharedMemory -Name $name -Size 64KB
        'Hello from A' | Write-SharedMemory -Name $name
        $out = Invoke-ChildPwsh -Script "`$r = Read-SharedMemory -Name $name; `$r.GetType().FullName; `$r"
        $out | Should -Be @('System.String', 'Hello from A')
    }

    It '2. Write creates a segment sized to fit when none exists' {
        $name = New-TestSegmentName 'scn'
        'hi' | Write-SharedMemory -Name $name
        Read-SharedMemory $name | Should -BeExactly 'hi'
        (Get-SharedMemory $name).Size | Should -Be 4KB
        Invoke-ChildPwsh -Script "Read-SharedMemory $name" | Should -Be 'hi'
    }

    It '3. Objects keep their shape in the other process' {
        $name = New-TestSegmentName 'scn'
        Get-Process | Select-Object -First 5 Name, Id, WorkingSet | Write-SharedMemory -Name $name
        $json = Invoke-ChildPwsh -Script "Read-SharedMemory $name | Format-Table | Out-String | Out-Null; @(Read-SharedMemory $name) | ForEach-Object { `$_.Name + '|' + `$_.Id + '|' + `$_.WorkingSet + '|' + (@(`$_.PSObject.Properties).Count) }"
        $json.Count | Should -Be 5
        foreach ($line in $json) {
            $parts = $line -split '\|'
            $parts[0] | Should -Not -BeNullOrEmpty
            $parts[1] | Should -Match '^\d+$'
            $parts[2] | Should -Match '^\d+$'
            $parts[3] | Should -Be 3
        }
    }

    It '4. A file crosses with an identical hash; -AsByteArray returns one [byte[]]' {
        $name = New-TestSegmentName 'scn'
        $logo = Join-Path $TestDrive 'logo.png'
        $bytes = [byte[]]::new(200KB); [Random]::new(7).NextBytes($bytes); [IO.File]::WriteAllBytes($logo, $bytes)
        Push-Location $TestDrive
        try { Write-SharedMemory -Name $name -Path ./logo.png } finally { Pop-Location }
        $copy = Join-Path $TestDrive 'copy.png'
        $out = Invoke-ChildPwsh -Script @"
Set-Location '$TestDrive'
Read-SharedMemory -Name $name -OutFile ./copy.png
`$bytes = Read-SharedMemory -Name $name -AsByteArray
`$bytes.GetType().FullName
`$bytes.Length
"@
        $out | Should -Be @('System.Byte[]', "$(200KB)")
        (Get-FileHash $copy).Hash | Should -Be (Get-FileHash $logo).Hash
    }

    It '5. Lock-SharedMemory -ScriptBlock: 4 processes x 250 increments make 1000' {
        $name = New-TestSegmentName 'scn'
        $script = @"
1..250 | ForEach-Object {
    Lock-SharedMemory -Name $name -ScriptBlock {
        `$n = [int](Read-SharedMemory $name); Write-SharedMemory $name (`$n + 1) }
}
'done'
"@
        $children = 1..4 | ForEach-Object { Start-ChildPwsh -Script $script }
        foreach ($child in $children) { Wait-ChildPwsh -Process $child -TimeoutSeconds 180 | Should -Be 'done' }
        Read-SharedMemory $name | Should -Be 1000
    }

    It '5b. Lock-SharedMemory, other commands, then Unlock-SharedMemory keeps other processes out in between' {
        $name = New-TestSegmentName 'scn'
        Lock-SharedMemory $name
        try {
            Invoke-ChildPwsh -Script "try { Lock-SharedMemory $name -Timeout 0.3 -ErrorAction Stop; 'locked' } catch { `$_.FullyQualifiedErrorId }" |
                Should -Be 'LockTimeout,PSSharedMemory.Commands.LockSharedMemoryCommand'
        }
        finally {
            Unlock-SharedMemory $name
        }
        Invoke-ChildPwsh -Script "Lock-SharedMemory $name -Timeout 30; 'locked'; Unlock-SharedMemory $name" | Should -Be 'locked'
    }

    It '6. B blocks until A writes, then reads the new value' {
        $name = New-TestSegmentName 'scn'
        'before' | Write-SharedMemory -Name $name
        $child = Start-ChildPwsh -Script "Read-SharedMemory -Name $name -Wait -Timeout (New-TimeSpan -Seconds 60)"
        # B is counted on the change word just before it sleeps: from then on one write must wake it.
        Wait-SegmentWaiter -Name $name -Word Change -Abandon { $child.HasExited }
        'after' | Write-SharedMemory -Name $name
        Wait-ChildPwsh -Process $child | Should -Be 'after'
    }

    It '7. Segment objects pipe: into Read, into a job (serialized), into Remove -WhatIf' {
        $name = New-TestSegmentName 'scn'
        $seg = New-SharedMemory -Name $name -Size 1MB
        'chat' | Write-SharedMemory -Name $name
        Get-SharedMemory $name | Read-SharedMemory | Should -Be 'chat'

        Start-Job { $using:seg | Read-SharedMemory } | Receive-Job -Wait -AutoRemoveJob | Should -Be 'chat'

        $view = Get-SharedMemory $name | Out-String
        foreach ($column in 'Name', 'Size', 'Length', 'ContentType', 'Version', 'LastWriter', 'LastWriteTime') { $view | Should -Match $column }

        Get-SharedMemory $name | Remove-SharedMemory -WhatIf
        Get-SharedMemory $name | Should -Not -BeNullOrEmpty
    }

    It '7. Segment objects pipe into ForEach-Object -Parallel runspaces' -Skip:($PSVersionTable.PSVersion.Major -lt 7) {
        $name = New-TestSegmentName 'scn'
        $seg = New-SharedMemory -Name $name -Size 1MB
        1..4 | ForEach-Object -Parallel { $using:seg | Write-SharedMemory -Value $_ }
        (Get-SharedMemory $name).Version | Should -Be 4
        Read-SharedMemory $name | Should -BeIn @(1, 2, 3, 4)
    }
}
