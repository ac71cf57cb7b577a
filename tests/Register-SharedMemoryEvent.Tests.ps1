# Register-SharedMemoryEvent: PowerShell events when segments change, raised by one watcher thread per
# session, after writes of other processes. Processes are ordered by handshakes (versions, events that
# must arrive), never by sleeps.
BeforeAll {
    . $PSScriptRoot/common.ps1

    function New-EventSegments([int] $Count = 1) {
        foreach ($i in 1..$Count) {
            $name = New-TestSegmentName 'evt'
            $null = New-SharedMemory -Name $name -Size 1KB
            $name
        }
    }

    function Start-Writer {
        <#
            A child pwsh that, each time the control segment's version goes up, writes the segment the control
            names with the monotonic clock's reading taken just before the write, then raises the control's
            -done twin to that round. It says 'ready <pid>' first. Returns the process and the names it uses.
        #>
        param([Parameter(Mandatory)] [string[]] $Names, [int] $Rounds = 3)
        $control = New-TestSegmentName 'evt'
        $null = New-SharedMemory -Name $control -Size 1KB
        $process = Start-ChildPwsh -Script @"
`$names = @('$($Names -join "', '")')
`$version = (Get-SharedMemory '$control').Version
Write-SharedMemory '$control-ready' "ready `$PID"
for (`$i = 1; `$i -le $Rounds; `$i++) {
    `$target = [int](Read-SharedMemory '$control' -NewerThan `$version -Timeout 60)
    `$version++
    Write-SharedMemory -Name `$names[`$target] -Value ([System.Diagnostics.Stopwatch]::GetTimestamp())
    Write-SharedMemory '$control-done' "`$i"
}
"@
        $ready = Read-SharedMemory "$control-ready" -NewerThan 0 -Timeout 60
        [pscustomobject]@{ Process = $process; Control = $control; ProcessId = [int]($ready -split ' ')[1]; Round = 0 }
    }

    function Invoke-Write($Writer, [int] $Index) {
        # Has the writer write segment Index, and returns once it has (the handshake: its -done twin).
        $Writer.Round++
        Write-SharedMemory $Writer.Control "$Index"
        $null = Read-SharedMemory "$($Writer.Control)-done" -NewerThan ($Writer.Round - 1) -Timeout 60
    }

    function Get-WatcherThreadCount {
        # The module's own count of watcher threads alive in this process.
        [PSSharedMemory.SharedMemoryEventSource].Assembly.GetType('PSSharedMemory.EventWatcher').
            GetProperty('LiveThreads', [System.Reflection.BindingFlags]'NonPublic, Static').GetValue($null)
    }

    function Wait-WatcherThreadCount([int] $Count) {
        # Waits (a generous 10 seconds) for the watcher threads of this process to number Count.
        $deadline = [datetime]::UtcNow.AddSeconds(10)
        while ((Get-WatcherThreadCount) -ne $Count -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 10 }
        Get-WatcherThreadCount | Should -Be $Count
    }

    function ConvertTo-Milliseconds([long] $Ticks) { $Ticks * 1000.0 / [System.Diagnostics.Stopwatch]::Frequency }
}

AfterAll {
    Get-SharedMemory 'evt-*' | Where-Object Name -Match '^evt-[0-9a-f]{12}' | Remove-SharedMemory -Confirm:$false
}

Describe 'Register-SharedMemoryEvent' {
    AfterEach {
        Get-EventSubscriber -Force | Where-Object { $_.SourceObject -is [PSSharedMemory.SharedMemoryEventSource] } | Unregister-Event -Force
        Get-Event | Remove-Event
    }

    It 'raises an event, with the name, the version and the writer, when another process writes each of three segments' {
        $names = @(New-EventSegments 3)
        $writer = Start-Writer -Names $names -Rounds 9
        try {
            Register-SharedMemoryEvent -Name $names -SourceIdentifier status -MessageData 'dashboard' | Should -BeNullOrEmpty
            $latencies = foreach ($target in 0, 1, 2, 2, 0, 1, 1, 2, 0) {
                Write-SharedMemory $writer.Control "$target"
                $raised = Wait-Event -SourceIdentifier status -Timeout 10
                $at = [System.Diagnostics.Stopwatch]::GetTimestamp()
                $raised | Should -Not -BeNullOrEmpty -Because "the write of $($names[$target]) raises an event"
                $raised | Remove-Event
                $segment = Get-SharedMemory $names[$target]
                $raised.SourceEventArgs | Should -BeOfType PSSharedMemory.SharedMemoryChangedEventArgs
                $raised.SourceEventArgs.Name | Should -Be $names[$target]
                $raised.SourceEventArgs.Version | Should -Be $segment.Version
                $raised.SourceEventArgs.LastWriterProcessId | Should -Be $writer.ProcessId
                $raised.SourceEventArgs.Segment.Name | Should -Be $names[$target]
                $raised.MessageData | Should -Be 'dashboard'
                $raised.Sender | Should -BeOfType PSSharedMemory.SharedMemoryEventSource
                $null = Read-SharedMemory "$($writer.Control)-done" -NewerThan $writer.Round -Timeout 60
                $writer.Round++
                # No second event for the one write.
                Get-Event -SourceIdentifier status -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
                ConvertTo-Milliseconds ($at - [long](Read-SharedMemory $names[$target]))
            }
            $sorted = $latencies | Sort-Object
            Write-Host ("    Register-SharedMemoryEvent, from another process's write to Wait-Event's return, ms: {0}; median {1:0.00}" -f (($latencies | ForEach-Object { $_.ToString('0.00') }) -join ', '), $sorted[[int][math]::Floor($sorted.Count / 2)])
            $null = Wait-ChildPwsh -Process $writer.Process
        }
        finally {
            if (-not $writer.Process.HasExited) { $writer.Process.Kill() }
        }
    }

    It 'runs an -Action block for each event, with $EventArgs, $Event and $Sender' {
        $name = New-EventSegments 1
        $writer = Start-Writer -Names $name -Rounds 2
        try {
            $job = Register-SharedMemoryEvent -Name $name -SourceIdentifier acting -MessageData 'md' -Action {
                $null = New-Event -SourceIdentifier acted -MessageData ([pscustomobject]@{
                        Name = $EventArgs.Name; Version = $EventArgs.Version; Writer = $EventArgs.LastWriterProcessId
                        MessageData = $Event.MessageData; Sender = "$Sender"; Subscriber = $EventSubscriber.SourceIdentifier
                    })
            }
            $job | Should -BeOfType System.Management.Automation.PSEventJob
            $job.Name | Should -Be 'acting'
            foreach ($version in 1, 2) {
                Invoke-Write $writer 0
                $acted = Wait-Event -SourceIdentifier acted -Timeout 10
                $acted | Should -Not -BeNullOrEmpty -Because 'the action raises an event of its own'
                $acted | Remove-Event
                $acted.MessageData.Name | Should -Be $name
                $acted.MessageData.Version | Should -Be $version
                $acted.MessageData.Writer | Should -Be $writer.ProcessId
                $acted.MessageData.MessageData | Should -Be 'md'
                $acted.MessageData.Sender | Should -Be $name
                $acted.MessageData.Subscriber | Should -Be 'acting'
            }
            # An action takes the events: none is queued for Get-Event.
            Get-Event -SourceIdentifier acting -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $null = Wait-ChildPwsh -Process $writer.Process
        }
        finally {
            if (-not $writer.Process.HasExited) { $writer.Process.Kill() }
        }
    }

    It 'raises no event after Unregister-Event, and the watcher thread ends with the last subscription' {
        $name = New-EventSegments 1
        $writer = Start-Writer -Names $name -Rounds 2
        try {
            Wait-WatcherThreadCount 0
            Register-SharedMemoryEvent -Name $name -SourceIdentifier leaving
            Get-WatcherThreadCount | Should -Be 1
            Invoke-Write $writer 0
            Wait-Event -SourceIdentifier leaving -Timeout 10 | Should -Not -BeNullOrEmpty -Because 'the subscription works before it is removed'
            Remove-Event -SourceIdentifier leaving

            Unregister-Event -SourceIdentifier leaving
            Get-EventSubscriber -SourceIdentifier leaving -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            Wait-WatcherThreadCount 0
            # The write is made (the handshake says so), and no event comes of it.
            Invoke-Write $writer 0
            (Get-SharedMemory $name).Version | Should -Be 2
            Wait-Event -SourceIdentifier leaving -Timeout 1 | Should -BeNullOrEmpty
            Get-Event | Should -BeNullOrEmpty
            $null = Wait-ChildPwsh -Process $writer.Process
        }
        finally {
            if (-not $writer.Process.HasExited) { $writer.Process.Kill() }
        }
    }

    It 'serves every subscription of the session from one thread' {
        $names = @(New-EventSegments 3)
        Wait-WatcherThreadCount 0
        foreach ($name in $names) { Register-SharedMemoryEvent -Name $name -SourceIdentifier "one-$name" }
        Register-SharedMemoryEvent -Name $names -SourceIdentifier all
        Get-WatcherThreadCount | Should -Be 1
        $null = Invoke-ChildPwsh -Script "Write-SharedMemory '$($names[1])' 'x'"
        (Wait-Event -SourceIdentifier "one-$($names[1])" -Timeout 10).SourceEventArgs.Version | Should -Be 1
        (Wait-Event -SourceIdentifier all -Timeout 10).SourceEventArgs.Name | Should -Be $names[1]
        Unregister-Event -SourceIdentifier "one-$($names[0])"
        Get-WatcherThreadCount | Should -Be 1
    }

    It 'reports the writes after the Version of piped segment objects' {
        $name = New-EventSegments 1
        $segment = Get-SharedMemory $name
        $null = Invoke-ChildPwsh -Script "Write-SharedMemory '$name' 'between'"
        $segment | Register-SharedMemoryEvent -SourceIdentifier piped
        (Wait-Event -SourceIdentifier piped -Timeout 10).SourceEventArgs.Version | Should -Be 1
    }

    It 'watches a segment that does not exist yet, and one removed and created again' {
        $name = New-TestSegmentName 'evt'
        Register-SharedMemoryEvent -Name $name -SourceIdentifier born
        $null = Invoke-ChildPwsh -Script "Write-SharedMemory '$name' 'first'; Write-SharedMemory '$name' 'second'"
        $raised = Wait-Event -SourceIdentifier born -Timeout 10
        $raised.SourceEventArgs.Version | Should -BeIn 1, 2
        $raised | Remove-Event
        if ($raised.SourceEventArgs.Version -eq 1) {
            (Wait-Event -SourceIdentifier born -Timeout 10).SourceEventArgs.Version | Should -Be 2
            Remove-Event -SourceIdentifier born
        }

        $null = Invoke-ChildPwsh -Script "Remove-SharedMemory '$name'; Write-SharedMemory '$name' 'reborn'"
        $raised = Wait-Event -SourceIdentifier born -Timeout 10
        $raised.SourceEventArgs.Version | Should -Be 1 -Because 'the new segment of that name is watched from its first write'
    }

    It 'keeps watching while subscriptions to segments that do not exist yet come and go' {
        $names = @(foreach ($i in 1..3) { New-TestSegmentName 'evt' })
        # In a process of its own: a watcher thread that failed there would end that process, not this one.
        $out = Invoke-ChildPwsh -Script @"
`$names = @('$($names -join "', '")')
foreach (`$i in 1..40) {
    Register-SharedMemoryEvent -Name `$names -SourceIdentifier "s`$i"
    if (`$i % 4 -eq 0) { Unregister-Event -SourceIdentifier "s`$(`$i - 1)" }
}
`$kept = @(Get-EventSubscriber | ForEach-Object SourceIdentifier)
Write-SharedMemory `$names[1] 'created and written'
`$arrived = @(foreach (`$id in `$kept) { Wait-Event -SourceIdentifier `$id -Timeout 10 | Where-Object { `$_.SourceEventArgs.Name -eq `$names[1] } }).Count
"subscriptions `$(`$kept.Count) events `$arrived"
"@
        $out | Should -Be 'subscriptions 30 events 30'
    }

    It 'refuses a source identifier in use, as Register-ObjectEvent does' {
        $name = New-EventSegments 1
        Register-SharedMemoryEvent -Name $name -SourceIdentifier taken
        $err = try { Register-SharedMemoryEvent -Name $name -SourceIdentifier taken -ErrorAction Stop } catch { $_ }
        $err.FullyQualifiedErrorId | Should -Be 'SubscriberExists,PSSharedMemory.Commands.RegisterSharedMemoryEventCommand'
        $err.CategoryInfo.Category | Should -Be 'ResourceExists'
        @(Get-EventSubscriber -SourceIdentifier taken).Count | Should -Be 1
    }

    It 'stops after -MaxTriggerCount events' {
        $name = New-EventSegments 1
        Register-SharedMemoryEvent -Name $name -SourceIdentifier once -MaxTriggerCount 1
        Write-SharedMemory $name 'one'
        Wait-Event -SourceIdentifier once -Timeout 10 | Remove-Event
        # PowerShell unregisters it on the thread that raised the event, right after queuing the event.
        $deadline = [datetime]::UtcNow.AddSeconds(10)
        while ((Get-EventSubscriber -SourceIdentifier once -ErrorAction SilentlyContinue) -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 10 }
        Get-EventSubscriber -SourceIdentifier once -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Wait-WatcherThreadCount 0
        Write-SharedMemory $name 'two'
        (Get-SharedMemory $name).Version | Should -Be 2
        Wait-Event -SourceIdentifier once -Timeout 1 | Should -BeNullOrEmpty
    }

    It 'ends its subscriptions and its watcher thread on <Ending>' -TestCases @(
        @{ Ending = 'Remove-Module'; Script = 'Remove-Module PSSharedMemory'; Subscribers = 0 }
        @{ Ending = 'the end of another runspace'; Script = '$runspace.Close()'; Subscribers = 2 }
    ) {
        $name = New-EventSegments 1
        # In a process of its own, whose main session and one more runspace each subscribe twice, so each
        # has a watcher thread; one session ends its subscriptions. On Linux the threads are also counted by
        # their name among the process's threads.
        $out = Invoke-ChildPwsh -Script @"
function Count { [PSSharedMemory.SharedMemoryEventSource].Assembly.GetType('PSSharedMemory.EventWatcher').GetProperty('LiveThreads', [System.Reflection.BindingFlags]'NonPublic, Static').GetValue(`$null) }
function Named { if (`$IsLinux) { @(Get-ChildItem /proc/self/task | Where-Object { (Get-Content -Raw "`$(`$_.FullName)/comm" -ErrorAction SilentlyContinue) -match '^pssm-events' }).Count } else { 'none' } }
`$runspace = [runspacefactory]::CreateRunspace(); `$runspace.Open()
`$ps = [powershell]::Create(); `$ps.Runspace = `$runspace
`$null = `$ps.AddScript("Import-Module '$script:ModuleManifest'; Register-SharedMemoryEvent -Name '$name' -SourceIdentifier a; `$null = Register-SharedMemoryEvent -Name '$name' -SourceIdentifier b -Action { }").Invoke()
Register-SharedMemoryEvent -Name '$name' -SourceIdentifier here; `$null = Register-SharedMemoryEvent -Name '$name' -SourceIdentifier there -Action { }
"before `$(Count) `$(Named) `$(@(Get-EventSubscriber).Count)"
$Script
`$deadline = [datetime]::UtcNow.AddSeconds(10); while ((Count) -ne 1 -and [datetime]::UtcNow -lt `$deadline) { Start-Sleep -Milliseconds 10 }
"after `$(Count) `$(Named) `$(@(Get-EventSubscriber).Count)"
"@
        $before = -split ($out | Where-Object { $_ -like 'before *' })
        $after = -split ($out | Where-Object { $_ -like 'after *' })
        $before[1] | Should -Be 2 -Because 'each session has one watcher thread'
        $after[1] | Should -Be 1 -Because 'the watcher of the session that ended its subscriptions stopped, and only that one'
        if ($before[2] -ne 'none') {
            $before[2] | Should -Be 2
            $after[2] | Should -Be 1 -Because 'the OS thread named pssm-events ended too'
        }
        $before[3] | Should -Be 2
        $after[3] | Should -Be $Subscribers -Because 'Remove-Module ends the subscriptions of its session, as Unregister-Event would'
    }
}
