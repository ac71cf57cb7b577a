# Versions you can act on (Read-SharedMemory -NewerThan, Write-SharedMemory -IfVersion), appends, and
# visible lock holders (Get-SharedMemory, LockTimeout errors, the abandoned-lock warning), mostly between
# real separate processes. Processes are ordered by handshakes, never by sleeps.
BeforeAll {
    . $PSScriptRoot/common.ps1

    function Wait-SegmentText {
        # Polls until segment Name holds Text; the 20 ms is only the pace, a generous minute the limit.
        param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [string] $Text, [scriptblock] $Abandon = { $false })
        $deadline = [datetime]::UtcNow.AddSeconds(60)
        while ((Read-SharedMemory $Name -ErrorAction SilentlyContinue) -ne $Text) {
            if (& $Abandon) { throw "Gave up waiting for '$Text' in '$Name'." }
            if ([datetime]::UtcNow -gt $deadline) { throw "'$Name' did not hold '$Text' within 60 seconds." }
            Start-Sleep -Milliseconds 20
        }
    }

    function Start-ConcurrentChildren {
        <#
            Starts Count child processes that each run Script (with $i set to its number, 0 to Count-1) at
            the same moment: each says it is ready, and none starts before all are and the test says go.
            Returns the processes.
        #>
        param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [int] $Count, [Parameter(Mandatory)] [string] $Script)
        $children = foreach ($i in 0..($Count - 1)) {
            Start-ChildPwsh -Script "`$i = $i; 'ready' | Write-SharedMemory '$Name-ready-$i'; $(Get-WaitForGoScript "$Name-go"); $Script"
        }
        foreach ($i in 0..($Count - 1)) {
            $child = $children[$i]
            Wait-SegmentText -Name "$Name-ready-$i" -Text 'ready' -Abandon { $child.HasExited }
        }
        'go' | Write-SharedMemory "$Name-go"
        $children
    }

    function Invoke-LockingCommand([string] $Command, [string] $Name) {
        # Runs Write-SharedMemory (writing 'fresh') or Lock-SharedMemory on Name; returns the warnings as strings.
        if ($Command -eq 'Write-SharedMemory') { Write-SharedMemory $Name 'fresh' -WarningVariable warned -WarningAction SilentlyContinue }
        else { $null = Lock-SharedMemory $Name { 'locked' } -WarningVariable warned -WarningAction SilentlyContinue }
        $warned | ForEach-Object { "$_" }
    }

    function Start-WriterJob([string] $Name, [string] $Value) {
        # A job that writes Value to Name as soon as it starts: a thread job, as a user would start it, or,
        # where the ThreadJob module is missing (the Windows lane's host), a runspace of this process, which
        # is what a thread job runs in.
        if (Get-Command Start-ThreadJob -ErrorAction SilentlyContinue) {
            Start-ThreadJob -ArgumentList $script:ModuleManifest, $Name, $Value -ScriptBlock {
                param($Manifest, $Name, $Value)
                Import-Module $Manifest
                Write-SharedMemory -Name $Name -Value $Value
            }
        }
        else {
            Start-Runspace "Write-SharedMemory -Name '$Name' -Value '$Value'"
        }
    }

    function Wait-WriterJob($Job) {
        # Waits for a job of Start-WriterJob to end; its errors fail the test.
        if ($Job -is [System.Management.Automation.Job]) { $Job | Receive-Job -Wait -AutoRemoveJob }
        else {
            try { $Job.PowerShell.EndInvoke($Job.Async) } finally { $Job.PowerShell.Dispose() }
        }
    }

    function Get-HeaderField([string] $Name, [int] $Offset) {
        # A u32 of segment Name's header, read from its file (docs/segment-format.md has the offsets).
        Add-TestType
        $file = Join-Path ([PSSharedMemory.Engine.SharedMemorySegment]::GetStoreDirectory('User')) "$Name.pssm"
        [PSSharedMemoryTests.SegmentHeaderReader]::ReadUInt32($file, $Offset)
    }
}

AfterAll {
    Get-SharedMemory 'coord-*' | Where-Object Name -Match '^coord-[0-9a-f]{12}' | Remove-SharedMemory -Confirm:$false
}

Describe 'Read-SharedMemory -NewerThan' {
    It 'returns the write of a job started after the version was taken, 50 times out of 50' {
        $name = New-TestSegmentName 'coord'
        $null = New-SharedMemory $name -Size 1KB
        $misses = [System.Collections.Generic.List[string]]::new()
        for ($i = 0; $i -lt 50; $i++) {
            # The pattern of help Example 3: take the version, start the writer, wait for newer than that version.
            $version = (Get-SharedMemory $name).Version
            $job = Start-WriterJob -Name $name -Value "done $i"
            # Every other round, the job has finished before the read even begins.
            $finished = $i % 2 -eq 1
            if ($finished) { Wait-WriterJob $job }
            $got = Read-SharedMemory -Name $name -NewerThan $version -Timeout 5 -ErrorAction SilentlyContinue -ErrorVariable failed
            if ($got -ne "done $i") { $misses.Add("round ${i}: got '$got' $failed") }
            if (-not $finished) { Wait-WriterJob $job }
        }
        $misses | Should -BeNullOrEmpty
    }

    It 'is needed: -Wait in a session that has not seen the segment misses a write made before it began' {
        $name = New-TestSegmentName 'coord'
        $null = New-SharedMemory $name -Size 1KB
        $version = (Get-SharedMemory $name).Version
        # The job's write is complete before either wait starts: the order a fast writer can produce.
        Wait-WriterJob (Start-WriterJob -Name $name -Value 'done')

        # A new session waits past the version it finds, which already is the job's: nothing newer comes.
        $session = [powershell]::Create()
        try {
            $null = $session.AddScript("Import-Module '$script:ModuleManifest'; try { Read-SharedMemory $name -Wait -Timeout 0.3 -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId }")
            $session.Invoke() | Should -Be 'WaitTimeout,PSSharedMemory.Commands.ReadSharedMemoryCommand'
        }
        finally { $session.Dispose() }

        Read-SharedMemory $name -NewerThan $version -Timeout 5 | Should -Be 'done'
    }

    It 'waits for a newer version, and returns the write of another process' {
        $name = New-TestSegmentName 'coord'
        'old' | Write-SharedMemory $name
        $version = (Get-SharedMemory $name).Version
        $reader = Start-Runspace "Read-SharedMemory $name -NewerThan $version -Timeout 60"
        try {
            # Once the reader is counted as waiting, one write of another process must wake it.
            Wait-SegmentWaiter -Name $name -Word Change -Abandon { $reader.Async.IsCompleted }
            Invoke-ChildPwsh -Script "'new' | Write-SharedMemory $name; 'written'" | Should -Be 'written'
            $reader.PowerShell.EndInvoke($reader.Async) | Should -Be 'new'
        }
        finally { $reader.PowerShell.Dispose() }
    }

    It 'returns at once when the segment is already newer, also this session''s own write' {
        $name = New-TestSegmentName 'coord'
        'one' | Write-SharedMemory $name
        'two' | Write-SharedMemory $name
        Read-SharedMemory $name -NewerThan 1 -Timeout 0.5 | Should -Be 'two'
        Read-SharedMemory $name -NewerThan 0 -Timeout 0.5 | Should -Be 'two'
        Read-SharedMemory $name -Wait -NewerThan 1 -Timeout 0.5 | Should -Be 'two'
        # -Wait would ignore this session's own write; -NewerThan compares versions only.
        Get-SharedMemory $name | Read-SharedMemory -NewerThan 1 -Timeout 0.5 | Should -Be 'two'
    }

    It 'fails with WaitTimeout when nothing newer comes, for an existing and a missing segment' {
        $name = New-TestSegmentName 'coord'
        'x' | Write-SharedMemory $name
        { Read-SharedMemory $name -NewerThan 1 -Timeout 0.2 -ErrorAction Stop } | Should -Throw -ErrorId 'WaitTimeout,PSSharedMemory.Commands.ReadSharedMemoryCommand'
        Read-SharedMemory "$name-missing" -NewerThan 0 -Timeout 0.2 -ErrorAction SilentlyContinue -ErrorVariable err
        $err[0].FullyQualifiedErrorId | Should -Be 'WaitTimeout,PSSharedMemory.Commands.ReadSharedMemoryCommand'
        $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        Get-SharedMemory "$name-missing" -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'waits for a segment that does not exist yet to be created and written by another process' {
        $name = New-TestSegmentName 'coord'
        # The reader says it is about to wait only after it saw the name missing; the writer starts after that.
        $reader = Start-Runspace "if (Get-SharedMemory $name -ErrorAction SilentlyContinue) { throw 'exists' }; 'waiting' | Write-SharedMemory $name-started; Read-SharedMemory $name -NewerThan 0 -Timeout 60"
        try {
            Wait-SegmentText -Name "$name-started" -Text 'waiting' -Abandon { $reader.Async.IsCompleted }
            Invoke-ChildPwsh -Script "'created' | Write-SharedMemory $name; 'written'" | Should -Be 'written'
            $reader.PowerShell.EndInvoke($reader.Async) | Should -Be 'created'
        }
        finally { $reader.PowerShell.Dispose() }
    }

    It 'rejects a negative version' {
        { Read-SharedMemory (New-TestSegmentName 'coord') -NewerThan -1 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,PSSharedMemory.Commands.ReadSharedMemoryCommand'
    }
}

Describe 'Write-SharedMemory -IfVersion' {
    It 'writes when the version matches, and otherwise reports SharedMemoryVersionMismatch with the current version and changes nothing' {
        $name = New-TestSegmentName 'coord'
        'one' | Write-SharedMemory $name
        Write-SharedMemory $name 'two' -IfVersion 1 -PassThru | ForEach-Object Version | Should -Be 2

        Write-SharedMemory $name 'stale' -IfVersion 1 -ErrorAction SilentlyContinue -ErrorVariable err
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'SharedMemoryVersionMismatch,PSSharedMemory.Commands.WriteSharedMemoryCommand'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err[0].Exception.CurrentVersion | Should -Be 2
        $err[0].Exception.Message | Should -Match 'at version 2, not 1'
        $err[0].TargetObject | Should -BeExactly $name
        $err[0].ErrorDetails.RecommendedAction | Should -Match '-IfVersion'
        Read-SharedMemory $name | Should -Be 'two'
        (Get-SharedMemory $name).Version | Should -Be 2

        { Write-SharedMemory $name 'stale' -IfVersion 7 -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemoryVersionMismatch,PSSharedMemory.Commands.WriteSharedMemoryCommand'
    }

    It 'creates a missing segment for -IfVersion 0 only' {
        $name = New-TestSegmentName 'coord'
        { Write-SharedMemory $name 'x' -IfVersion 3 -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemoryNotFound,PSSharedMemory.Commands.WriteSharedMemoryCommand'
        Get-SharedMemory $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Write-SharedMemory $name 'first' -IfVersion 0
        Read-SharedMemory $name | Should -Be 'first'
        { Write-SharedMemory $name 'second' -IfVersion 0 -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemoryVersionMismatch,PSSharedMemory.Commands.WriteSharedMemoryCommand'
        Read-SharedMemory $name | Should -Be 'first'
    }

    It 'keeps the payload with -WhatIf' {
        $name = New-TestSegmentName 'coord'
        'old' | Write-SharedMemory $name
        Write-SharedMemory $name 'new' -IfVersion 1 -WhatIf
        Write-SharedMemory $name 'more' -Append -WhatIf
        Read-SharedMemory $name | Should -Be 'old'
        (Get-SharedMemory $name).Version | Should -Be 1
    }

    It 'rejects a negative version' {
        { Write-SharedMemory (New-TestSegmentName 'coord') 'x' -IfVersion -1 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,PSSharedMemory.Commands.WriteSharedMemoryCommand'
    }

    It 'lets 4 processes x 100 increments with retries reach exactly 400, without Lock-SharedMemory' {
        $name = New-TestSegmentName 'coord'
        '0' | Write-SharedMemory $name
        # Version first, then the value: a write between the two makes the conditional write fail, never lose.
        $script = @"
`$retries = 0
`$done = 0
while (`$done -lt 100) {
    `$version = (Get-SharedMemory $name).Version
    `$next = [int](Read-SharedMemory $name) + 1
    Write-SharedMemory $name "`$next" -IfVersion `$version -ErrorAction SilentlyContinue -ErrorVariable failed
    if (-not `$failed) { `$done++; continue }
    if (`$failed[0].FullyQualifiedErrorId -notlike 'SharedMemoryVersionMismatch,*') { throw `$failed[0] }
    `$retries++
}
"done `$retries"
"@
        $children = Start-ConcurrentChildren -Name $name -Count 4 -Script $script
        $results = foreach ($child in $children) { Wait-ChildPwsh -Process $child -TimeoutSeconds 180 }
        $results | Should -HaveCount 4
        $results | ForEach-Object { $_ | Should -Match '^done \d+$' }
        Read-SharedMemory $name | Should -Be '400'
    }
}

Describe 'Write-SharedMemory -Append' {
    It 'adds text to Text and bytes to Bytes, exactly as given' {
        $name = New-TestSegmentName 'coord'
        Write-SharedMemory $name 'abc'
        Write-SharedMemory $name 'def' -Append
        Write-SharedMemory $name "`nline" -Append -PassThru | ForEach-Object Version | Should -Be 3
        Read-SharedMemory $name | Should -BeExactly "abcdef`nline"
        (Get-SharedMemory $name).ContentType | Should -Be 'Text'

        $bytes = New-TestSegmentName 'coord'
        Write-SharedMemory $bytes ([byte[]](1, 2))
        Write-SharedMemory $bytes ([byte[]](3)) -Append
        (Read-SharedMemory $bytes) -join ',' | Should -Be '1,2,3'
    }

    It 'appends piped strings as lines, as a write of them would store them' {
        $name = New-TestSegmentName 'coord'
        'first', 'second' | Write-SharedMemory $name
        'third', 'fourth' | Write-SharedMemory $name -Append
        Read-SharedMemory $name -Lines | Should -Be 'first', 'second', 'third', 'fourth'
    }

    It 'creates a missing segment, and appends to an empty one' {
        $name = New-TestSegmentName 'coord'
        Write-SharedMemory $name 'new' -Append
        Read-SharedMemory $name | Should -Be 'new'
        $empty = New-TestSegmentName 'coord'
        $null = New-SharedMemory $empty -Size 16
        Write-SharedMemory $empty ([byte[]](9)) -Append
        (Read-SharedMemory $empty) -join ',' | Should -Be '9'
    }

    It 'refuses <Scenario> with SharedMemoryContentTypeMismatch and keeps the payload' -TestCases @(
        @{ Scenario = 'bytes after Text'; Stored = 'text'; Value = [byte[]](1, 2) }
        @{ Scenario = 'text after Bytes'; Stored = [byte[]](1, 2); Value = 'text' }
        @{ Scenario = 'text after CliXml'; Stored = 42; Value = 'text' }
        @{ Scenario = 'an object after Text'; Stored = 'text'; Value = 42 }
    ) {
        $name = New-TestSegmentName 'coord'
        Write-SharedMemory $name $Stored
        $before = Read-SharedMemory $name -AsByteStream
        Write-SharedMemory $name $Value -Append -ErrorAction SilentlyContinue -ErrorVariable err
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'SharedMemoryContentTypeMismatch,PSSharedMemory.Commands.WriteSharedMemoryCommand'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidType'
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'without -Append'
        (Read-SharedMemory $name -AsByteStream) -join ',' | Should -Be ($before -join ',')
        (Get-SharedMemory $name).Version | Should -Be 1
    }

    It 'refuses objects before creating anything' {
        $name = New-TestSegmentName 'coord'
        { Write-SharedMemory $name @{ a = 1 } -Append -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemoryContentTypeMismatch,PSSharedMemory.Commands.WriteSharedMemoryCommand'
        Get-SharedMemory $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'fails with PayloadTooLarge when the result does not fit, and keeps the payload' {
        $name = New-TestSegmentName 'coord'
        $null = New-SharedMemory $name -Size 8
        Write-SharedMemory $name 'abcde'
        { Write-SharedMemory $name 'fghi' -Append -ErrorAction Stop } | Should -Throw -ErrorId 'PayloadTooLarge,PSSharedMemory.Commands.WriteSharedMemoryCommand'
        Read-SharedMemory $name | Should -BeExactly 'abcde'
    }

    It 'appends only at the version given with -IfVersion' {
        $name = New-TestSegmentName 'coord'
        Write-SharedMemory $name 'a'
        Write-SharedMemory $name 'b' -Append -IfVersion 1
        { Write-SharedMemory $name 'c' -Append -IfVersion 1 -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemoryVersionMismatch,PSSharedMemory.Commands.WriteSharedMemoryCommand'
        Read-SharedMemory $name | Should -BeExactly 'ab'
    }

    It 'lets 4 processes x 100 appends make 400 complete lines, each process''s in its own order' {
        $name = New-TestSegmentName 'coord'
        $null = New-SharedMemory $name -Size 64KB
        $script = "for (`$j = 0; `$j -lt 100; `$j++) { Write-SharedMemory $name ""p`$i line `$j``n"" -Append }; 'done'"
        $children = Start-ConcurrentChildren -Name $name -Count 4 -Script $script
        foreach ($child in $children) { Wait-ChildPwsh -Process $child -TimeoutSeconds 180 | Should -Be 'done' }

        $lines = @(Read-SharedMemory $name -Lines)
        $lines.Count | Should -Be 400
        $lines | Where-Object { $_ -notmatch '^p[0-3] line \d{1,2}$' } | Should -BeNullOrEmpty
        foreach ($p in 0..3) {
            $own = @($lines | Where-Object { $_ -like "p$p line *" } | ForEach-Object { [int]($_ -split ' ')[-1] })
            ($own -join ',') | Should -Be ((0..99) -join ',') -Because "process $p appended its lines in order"
        }
        (Get-SharedMemory $name).Version | Should -Be 400
    }
}

Describe 'Lock holders' {
    It 'Get-SharedMemory shows the holder''s process, and a Write of another process names it in its LockTimeout error' {
        $name = New-TestSegmentName 'coord'
        'before' | Write-SharedMemory $name
        $holder = Start-ChildPwsh -Script "Lock-SharedMemory $name; 'held' | Write-SharedMemory $name-held; $(Get-WaitForGoScript "$name-go"); Unlock-SharedMemory $name; 'done'"
        try {
            Wait-SegmentText -Name "$name-held" -Text 'held' -Abandon { $holder.HasExited }
            $segment = Get-SharedMemory $name
            $segment.IsLocked | Should -BeTrue
            $segment.LockHolderProcessId | Should -Be $holder.Id
            $segment.LockHolder | Should -Be $holder.Id
            $segment.LockHolderProcessName | Should -Be (Get-Process -Id $holder.Id).ProcessName
            # The default table shows it in its last column.
            ((Get-SharedMemory $name | Out-String -Width 200) -split '\r?\n' | Where-Object { $_ -like "$name *" }) | Should -Match "\s$($holder.Id)\s*$"

            Write-SharedMemory $name 'mine' -Timeout 0.2 -ErrorAction SilentlyContinue -ErrorVariable err
            $err[0].FullyQualifiedErrorId | Should -Be 'LockTimeout,PSSharedMemory.Commands.WriteSharedMemoryCommand'
            $err[0].Exception.Message | Should -Match "held by process $($holder.Id) "
            $err[0].Exception.LockHolderProcessId | Should -Be $holder.Id
            ($err[0] | Out-String) | Should -Match "process $($holder.Id) "
            Read-SharedMemory $name | Should -Be 'before'

            'go' | Write-SharedMemory "$name-go"
            Wait-ChildPwsh -Process $holder | Should -Be 'done'
            $free = Get-SharedMemory $name
            $free.IsLocked | Should -BeFalse
            $free.LockHolderProcessId | Should -Be 0
            $free.LockHolderProcessName | Should -BeExactly ''
        }
        finally {
            if (-not $holder.HasExited) { 'go' | Write-SharedMemory "$name-go" }
        }
    }

    It 'shows this session as the holder while it holds the lock, also in a deserialized copy' {
        $name = New-TestSegmentName 'coord'
        $segment = Lock-SharedMemory $name -PassThru
        try {
            $segment.IsLocked | Should -BeTrue
            $segment.LockHolderProcessId | Should -Be $PID
            $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize((Get-SharedMemory $name)))
            $copy.LockHolder | Should -Be $PID
            ($copy | Get-SharedMemory).LockHolderProcessId | Should -Be $PID
        }
        finally { Unlock-SharedMemory $name }
        (Get-SharedMemory $name).IsLocked | Should -BeFalse
    }
}

Describe 'The abandoned-lock warning' {
    It 'reaches the next Write after a Lock-SharedMemory holder was killed, once' {
        $name = New-TestSegmentName 'coord'
        'before' | Write-SharedMemory $name
        # The child takes the lock and is killed (SIGKILL on Unix) while it holds it.
        $child = Start-ChildPwsh -Script "Lock-SharedMemory $name; `$PID; [Console]::Out.Flush(); Stop-Process -Id `$PID -Force"
        if (-not $child.WaitForExit(120000)) { $child.Kill(); throw 'The child did not exit.' }
        $dead = [int]($child.StdOutTask.GetAwaiter().GetResult().Trim())

        Write-SharedMemory $name 'after' -WarningVariable warned -WarningAction SilentlyContinue
        $warned.Count | Should -Be 1
        "$($warned[0])" | Should -Match "process $dead, which ended without releasing it"
        Write-SharedMemory $name 'again' -WarningVariable quiet -WarningAction SilentlyContinue
        $quiet.Count | Should -Be 0
        Lock-SharedMemory $name { 'locked' } -WarningVariable quietLock -WarningAction SilentlyContinue | Should -Be 'locked'
        $quietLock.Count | Should -Be 0
        Read-SharedMemory $name | Should -Be 'again'
    }

    It 'reaches the next <First> even when a Read of another process took the lock over first, and <Then> does not repeat it' -TestCases @(
        @{ First = 'Write-SharedMemory'; Then = 'Lock-SharedMemory' }
        @{ First = 'Lock-SharedMemory'; Then = 'Write-SharedMemory' }
    ) {
        $name = New-TestSegmentName 'coord'
        $null = New-SharedMemory $name -Size 64
        # The child dies in the middle of a write, holding the lock (the engine's pause hook stops it there).
        $child = Start-ChildPwsh -Script @"
`$segment = [PSSharedMemory.Engine.SharedMemorySegment]::Open('$name')
`$pause = `$segment.GetType().GetMethod('WriteWithPause', [Reflection.BindingFlags]'NonPublic, Instance')
`$pause.Invoke(`$segment, @([byte[]]::new(8), [Action] { [Console]::Out.WriteLine(`$PID); [Console]::Out.Flush(); [Diagnostics.Process]::GetCurrentProcess().Kill() }))
"@
        if (-not $child.WaitForExit(120000)) { $child.Kill(); throw 'The child did not exit.' }
        $dead = [int]($child.StdOutTask.GetAwaiter().GetResult().Trim())
        Get-HeaderField $name 84 | Should -Be $dead -Because 'the dead writer is still recorded as the holder (LockOwnerPid)'

        # A reader needs the lock to tell a dead writer from a slow one: it takes it over and reports
        # InterruptedWrite, but warns of nothing; the report stays in the header (AbandonedLockPid).
        $read = Invoke-ChildPwsh -Script "try { Read-SharedMemory $name -ErrorAction Stop -WarningVariable w -WarningAction SilentlyContinue } catch { `$_.FullyQualifiedErrorId }; 'warnings ' + `$w.Count"
        $read | Should -Be 'InterruptedWrite,PSSharedMemory.Commands.ReadSharedMemoryCommand', 'warnings 0'
        Get-HeaderField $name 84 | Should -Be 0 -Because 'the reader took the lock over and released it'
        Get-HeaderField $name 88 | Should -Be $dead -Because 'the report waits for a locking command'

        $warned = @(Invoke-LockingCommand -Command $First -Name $name)
        $warned.Count | Should -Be 1
        $warned[0] | Should -Match "process $dead, which ended without releasing it"
        Get-HeaderField $name 88 | Should -Be 0

        @(Invoke-LockingCommand -Command $Then -Name $name).Count | Should -Be 0
        @(Invoke-LockingCommand -Command $First -Name $name).Count | Should -Be 0
        Read-SharedMemory $name | Should -Be 'fresh'
    }
}
