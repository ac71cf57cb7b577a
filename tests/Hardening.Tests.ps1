BeforeAll {
    . $PSScriptRoot/common.ps1

    function Get-StorePath([string] $Name) {
        Join-Path ([PSSharedMemory.Engine.SharedMemorySegment]::GetStoreDirectory('User')) "$Name.pssm"
    }
}

Describe 'The session handle cache' {
    It 'keeps at most 256 handles while a session with ulimit -n 1024 touches 2,000 live segments twice' {
        if (-not $IsLinux) { Set-ItResult -Skipped -Because 'Unix only: ulimit, /proc, store modes and symbolic links are Unix features; Windows protects its segment folders with ACLs'; return }
        $prefix = New-TestSegmentName 'lru'
        $script = @"
`$prefix = '$prefix'
foreach (`$i in 1..2000) { `$null = New-SharedMemory -Name "`$prefix-`$i" -Size 16; Write-SharedMemory -Name "`$prefix-`$i" -Value "`$i" }
`$wrong = 0
foreach (`$i in 1..2000) { if ((Read-SharedMemory -Name "`$prefix-`$i") -ne "`$i") { `$wrong++ } }
'wrong ' + `$wrong
'fds ' + @(Get-ChildItem /proc/`$PID/fd).Count
'maps ' + @(Get-Content /proc/`$PID/maps | Where-Object { `$_ -match [regex]::Escape(`$prefix) }).Count
Remove-SharedMemory -Name "`$prefix-*" -Confirm:`$false
"@
        $out = Invoke-ChildPwshWithLimit -Script $script -OpenFiles 1024
        $out | Should -Contain 'wrong 0'
        [int](@($out -match '^fds ')[0] -replace 'fds ') | Should -BeLessThan 400
        [int](@($out -match '^maps ')[0] -replace 'maps ') | Should -BeLessOrEqual 256
    }

    It 'touches 100,000 distinct names with ulimit -n 1024 without failing or keeping removed segments mapped' {
        if (-not $IsLinux) { Set-ItResult -Skipped -Because 'Unix only: ulimit, /proc, store modes and symbolic links are Unix features; Windows protects its segment folders with ACLs'; return }
        $prefix = New-TestSegmentName 'many'
        # Every 1,000 names another party removes the previous thousand, as other processes would.
        $script = @"
`$prefix = '$prefix'
`$failed = 0
foreach (`$batch in 0..99) {
    foreach (`$i in (`$batch * 1000 + 1)..(`$batch * 1000 + 1000)) {
        Write-SharedMemory -Name "`$prefix-`$i" -Value 'x' -ErrorAction SilentlyContinue -ErrorVariable e
        if (`$e) { `$failed++ }
    }
    if (`$batch -gt 0) {
        foreach (`$i in ((`$batch - 1) * 1000 + 1)..(`$batch * 1000)) { `$null = [PSSharedMemory.Engine.SharedMemorySegment]::Remove("`$prefix-`$i", 'User') }
    }
}
'failed ' + `$failed
'fds ' + @(Get-ChildItem /proc/`$PID/fd).Count
'deleted ' + @(Get-Content /proc/`$PID/maps | Where-Object { `$_ -match [regex]::Escape(`$prefix) -and `$_ -match '\(deleted\)' }).Count
Remove-SharedMemory -Name "`$prefix-*" -Confirm:`$false
"@
        $out = Invoke-ChildPwshWithLimit -Script $script -OpenFiles 1024 -TimeoutSeconds 600
        $out | Should -Contain 'failed 0'
        [int](@($out -match '^fds ')[0] -replace 'fds ') | Should -BeLessThan 400
        [int](@($out -match '^deleted ')[0] -replace 'deleted ') | Should -BeLessOrEqual 256
    }

    It 'opens afresh a segment whose file was deleted and re-created underneath' {
        if ($IsWindows) { Set-ItResult -Skipped -Because 'Unix only: a handle is matched to its name by device and inode, which the Windows store does not compare'; return }
        $name = New-TestSegmentName 'under'
        Write-SharedMemory -Name $name -Value 'old'
        Read-SharedMemory -Name $name | Should -Be 'old'

        # Not through the module: a cleaner deletes the file, then another process publishes the name again.
        Remove-Item -LiteralPath (Get-StorePath $name)
        Invoke-ChildPwsh -Script "Write-SharedMemory -Name '$name' -Value 'new'" | Out-Null

        Read-SharedMemory -Name $name | Should -Be 'new'
        Write-SharedMemory -Name $name -Value 'mine'
        Invoke-ChildPwsh -Script "Read-SharedMemory -Name '$name'" | Should -Be 'mine'
        Remove-SharedMemory -Name $name -Confirm:$false
    }

    It 'follows a changed PSSHAREDMEMORY_STORE on the next command' {
        $name = New-TestSegmentName 'moved'
        $saved = $env:PSSHAREDMEMORY_STORE
        $other = Join-Path ([IO.Path]::GetTempPath()) (New-TestSegmentName 'store')
        $null = New-Item -ItemType Directory -Path $other
        try {
            Write-SharedMemory -Name $name -Value 'first store'
            $env:PSSHAREDMEMORY_STORE = $other
            { Read-SharedMemory -Name $name -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemoryNotFound,PSSharedMemory.Commands.ReadSharedMemoryCommand'
            Write-SharedMemory -Name $name -Value 'second store'
            Read-SharedMemory -Name $name | Should -Be 'second store'
            $env:PSSHAREDMEMORY_STORE = $saved
            Read-SharedMemory -Name $name | Should -Be 'first store'
        }
        finally {
            $env:PSSHAREDMEMORY_STORE = $other
            Remove-SharedMemory -Name $name -Confirm:$false -ErrorAction SilentlyContinue
            $env:PSSHAREDMEMORY_STORE = $saved
            Remove-SharedMemory -Name $name -Confirm:$false -ErrorAction SilentlyContinue
            Remove-TestFolder $other
        }
    }
}

Describe 'Damaged segments' {
    BeforeAll {
        $script:prefix = New-TestSegmentName 'damaged'
        $null = New-SharedMemory -Name "$prefix-good" -Size 64
    }
    AfterAll {
        Get-ChildItem -LiteralPath (Split-Path (Get-StorePath x)) -Filter "$prefix*" | Remove-Item -Force
    }

    It 'are listed with Status Damaged, a Problem and one warning that names them' {
        Set-Content -LiteralPath (Get-StorePath "$prefix-junk") -Value 'not a segment'
        $listed = Get-SharedMemory -Name "$prefix-*" -WarningVariable warnings 3>$null
        ($listed | Where-Object Name -EQ "$prefix-good").Status | Should -Be 'Ok'
        $junk = $listed | Where-Object Name -EQ "$prefix-junk"
        $junk.Status | Should -Be 'Damaged'
        $junk.Problem | Should -Match 'shorter than the 128-byte header'
        $warnings.Count | Should -Be 1
        $warnings[0].Message | Should -Match ([regex]::Escape("$prefix-junk"))
        ($listed | Format-Table | Out-String) | Should -Match 'Damaged'
    }

    It 'are removed by wildcard and by name, and the good ones by wildcard too' {
        Set-Content -LiteralPath (Get-StorePath "$prefix-junk") -Value 'not a segment'
        Set-Content -LiteralPath (Get-StorePath "$prefix-byname") -Value 'not a segment either'
        Remove-SharedMemory -Name "$prefix-byname" -Confirm:$false
        Test-Path -LiteralPath (Get-StorePath "$prefix-byname") | Should -BeFalse
        Remove-SharedMemory -Name "$prefix-*" -Confirm:$false
        Get-ChildItem -LiteralPath (Split-Path (Get-StorePath x)) -Filter "$prefix*" | Should -BeNullOrEmpty
    }

    It 'that are symbolic links fail with SharedMemorySymbolicLink, and the target is never read' {
        if (-not $IsLinux) { Set-ItResult -Skipped -Because 'Unix only: ulimit, /proc, store modes and symbolic links are Unix features; Windows protects its segment folders with ACLs'; return }
        $target = Join-Path ([IO.Path]::GetTempPath()) (New-TestSegmentName 'target')
        Set-Content -LiteralPath $target -Value 'secret'
        $null = New-Item -ItemType SymbolicLink -Path (Get-StorePath "$prefix-link") -Target $target
        try {
            $err = $null
            Read-SharedMemory -Name "$prefix-link" -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -Be 'SharedMemorySymbolicLink,PSSharedMemory.Commands.ReadSharedMemoryCommand'
            $err[0].CategoryInfo.Category | Should -Be 'SecurityError'
            { Write-SharedMemory -Name "$prefix-link" -Value 'x' -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemorySymbolicLink,PSSharedMemory.Commands.WriteSharedMemoryCommand'
            Get-Content -LiteralPath $target | Should -Be 'secret'
            Remove-SharedMemory -Name "$prefix-link" -Confirm:$false
            Test-Path -LiteralPath $target | Should -BeTrue
        }
        finally {
            Remove-Item -LiteralPath $target -Force
        }
    }
}

Describe 'An untrusted store' {
    BeforeEach {
        $script:saved = $env:PSSHAREDMEMORY_STORE
        $script:root = Join-Path ([IO.Path]::GetTempPath()) (New-TestSegmentName 'root')
        $null = New-Item -ItemType Directory -Path $root
        $env:PSSHAREDMEMORY_STORE = $root
        $script:name = New-TestSegmentName 'trust'
        Write-SharedMemory -Name $name -Value 'mine'
        $script:userStore = [PSSharedMemory.Engine.SharedMemorySegment]::GetStoreDirectory('User')
    }
    AfterEach {
        # Close this session's handle first: Windows cannot delete a file that is open.
        Remove-SharedMemory -Name $name -Confirm:$false -ErrorAction SilentlyContinue
        $env:PSSHAREDMEMORY_STORE = $saved
        Remove-TestFolder $root
    }

    It 'with mode 0755 is refused by <Command> with SharedMemoryUnsafePermissions' -TestCases @(
        @{ Command = 'Read-SharedMemory'; Type = 'ReadSharedMemoryCommand' }
        @{ Command = 'Write-SharedMemory'; Type = 'WriteSharedMemoryCommand' }
        @{ Command = 'Get-SharedMemory'; Type = 'GetSharedMemoryCommand' }
        @{ Command = 'Remove-SharedMemory'; Type = 'RemoveSharedMemoryCommand' }
    ) {
        if (-not $IsLinux) { Set-ItResult -Skipped -Because 'Unix only: ulimit, /proc, store modes and symbolic links are Unix features; Windows protects its segment folders with ACLs'; return }
        & chmod 755 $userStore
        $parameters = @{ Name = $name; ErrorAction = 'SilentlyContinue'; ErrorVariable = 'err' }
        if ($Command -eq 'Write-SharedMemory') { $parameters.Value = 'x' }
        if ($Command -eq 'Remove-SharedMemory') { $parameters.Confirm = $false }
        $null = & $Command @parameters
        $err[0].FullyQualifiedErrorId | Should -Be "SharedMemoryUnsafePermissions,PSSharedMemory.Commands.$Type"
        $err[0].CategoryInfo.Category | Should -Be 'SecurityError'
        $err[0].Exception.Message | Should -Match 'chmod 700'
    }

    It 'that is a symbolic link is refused by a session that already has the segment open' {
        if (-not $IsLinux) { Set-ItResult -Skipped -Because 'Unix only: ulimit, /proc, store modes and symbolic links are Unix features; Windows protects its segment folders with ACLs'; return }
        Read-SharedMemory -Name $name | Should -Be 'mine'
        $elsewhere = Join-Path $root 'elsewhere'
        Move-Item -LiteralPath $userStore -Destination $elsewhere
        $null = New-Item -ItemType SymbolicLink -Path $userStore -Target $elsewhere
        { Read-SharedMemory -Name $name -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemorySymbolicLink,PSSharedMemory.Commands.ReadSharedMemoryCommand'
        { Write-SharedMemory -Name 'planted' -Value 'x' -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemorySymbolicLink,PSSharedMemory.Commands.WriteSharedMemoryCommand'
        Test-Path -LiteralPath (Join-Path $elsewhere 'planted.pssm') | Should -BeFalse
    }
}
