# Growable segments between real pwsh processes: a session that has a segment open follows every grow
# another session makes, and growth stops at the largest size with the payload kept.
BeforeAll {
    . $PSScriptRoot/common.ps1

    function Wait-SegmentText([string] $Name, [string] $Expected) {
        # A handshake: polls the condition (the pace, not the ordering, is the 20 ms) for two minutes at most.
        $deadline = [datetime]::UtcNow.AddMinutes(2)
        while ((Read-SharedMemory -Name $Name -ErrorAction SilentlyContinue) -ne $Expected) {
            if ([datetime]::UtcNow -gt $deadline) { throw "Segment '$Name' did not come to hold '$Expected'." }
            Start-Sleep -Milliseconds 20
        }
    }
}

Describe 'Growable segments' {
    AfterAll {
        Get-SharedMemory 'grow-*' | Where-Object Name -Match '^grow-[0-9a-f]{12}' | Remove-SharedMemory -Confirm:$false
    }

    It 'grows for each larger write, and a session that has it open reads every grown payload' {
        $name = New-TestSegmentName 'grow'
        $ack = "$name-ack"
        Write-SharedMemory -Name $name -Value 'small'
        (Get-SharedMemory $name).Size | Should -Be 4KB

        # The other session opens the segment at its first size and keeps it open (the session cache);
        # after each acknowledged step it waits for the next write.
        $reader = Start-ChildPwsh -Script @"
`$null = Read-SharedMemory -Name $name
Write-SharedMemory -Name $ack -Value 0
foreach (`$step in 1..3) {
    `$text = Read-SharedMemory -Name $name -Wait -Timeout 60
    '{0} {1} {2}' -f `$text.Length, `$text.Substring(0, 1), (Get-SharedMemory -Name $name).Size
    Write-SharedMemory -Name $ack -Value `$step
}
"@
        Wait-SegmentText $ack '0'
        $lengths = 10KB, 1MB, 5MB
        foreach ($step in 1..3) {
            $letter = [char](0x60 + $step)
            Write-SharedMemory -Name $name -Value ([string]::new($letter, $lengths[$step - 1]))
            Wait-SegmentText $ack "$step"
        }

        $lines = Wait-ChildPwsh $reader
        $lines.Count | Should -Be 3
        foreach ($step in 1..3) {
            $length, $letter, $size = $lines[$step - 1] -split ' '
            [int] $length | Should -Be $lengths[$step - 1]
            $letter | Should -BeExactly ([string][char](0x60 + $step))
            [long] $size | Should -BeGreaterOrEqual $lengths[$step - 1]
        }

        $segment = Get-SharedMemory $name
        $segment.Size | Should -Be (5MB + 5MB / 4)
        $segment.Version | Should -Be 4
    }

    It 'stops growing at -MaximumSize with PayloadTooLarge, and keeps the stored payload' {
        $name = New-TestSegmentName 'grow'
        $created = New-SharedMemory -Name $name -Growable -MaximumSize 64KB
        $created.IsGrowable | Should -BeTrue
        $created.MaximumSize | Should -Be 64KB
        Write-SharedMemory -Name $name -Value ('k' * 40KB)
        (Get-SharedMemory $name).Size | Should -Be 50KB

        Write-SharedMemory -Name $name -Value ('x' * 70KB) -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'PayloadTooLarge,*'
        $failure[0].CategoryInfo.Category | Should -Be 'LimitsExceeded'
        Invoke-ChildPwsh -Script "(Read-SharedMemory -Name $name).Length" | Should -Be (40KB)

        # Up to the largest size it still grows.
        Write-SharedMemory -Name $name -Value ('y' * 64KB)
        (Get-SharedMemory $name).Size | Should -Be 64KB
        (Read-SharedMemory -Name $name).Length | Should -Be 64KB
    }

    It 'keeps a segment created with -Size at its size' {
        $name = New-TestSegmentName 'grow'
        $null = New-SharedMemory -Name $name -Size 1KB
        Write-SharedMemory -Name $name -Value 'kept'
        Write-SharedMemory -Name $name -Value ('x' * 2KB) -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'PayloadTooLarge,*'
        $segment = Get-SharedMemory $name
        $segment.Size | Should -Be 1KB
        $segment.IsGrowable | Should -BeFalse
        Read-SharedMemory -Name $name | Should -BeExactly 'kept'
    }

    It 'refuses -MaximumSize without -Growable, and creates nothing' {
        $name = New-TestSegmentName 'grow'
        { New-SharedMemory -Name $name -MaximumSize 1MB -ErrorAction Stop } | Should -Throw -ErrorId 'MaximumSizeNeedsGrowable,*'
        Get-SharedMemory -Name $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'keeps IsGrowable and MaximumSize in a deserialized segment object' {
        $name = New-TestSegmentName 'grow'
        $null = New-SharedMemory -Name $name -Growable -MaximumSize 1MB
        $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize((Get-SharedMemory $name)))
        $copy.IsGrowable | Should -BeTrue
        $copy.MaximumSize | Should -Be 1MB
        ($copy | Write-SharedMemory -Value ('z' * 100KB) -PassThru).Size | Should -Be 128000
    }
}
