# Queues from PowerShell: New-SharedMemory -Queue, Send-SharedMemoryMessage and Receive-SharedMemoryMessage,
# mostly between real separate processes. Processes and runspaces are ordered by handshakes (waiter counts in
# the header, the lock state, a verbose message, values written by the other side), never by sleeps.
BeforeAll {
    . $PSScriptRoot/common.ps1

    function New-TestQueue([int] $Size = 4096) {
        # A new queue with a unique name; returns its name.
        $name = New-TestSegmentName 'queue'
        $null = New-SharedMemory -Name $name -Queue -Size $Size
        $name
    }

    # How a consumer process describes what it received, one line per message: its type and its value.
    $script:DescribeMessage = 'function Show($m) { if ($m -is [byte[]]) { "bytes:" + ($m -join ",") } elseif ($m -is [string]) { "text:" + $m } else { "object:{0},{1}" -f $m.N, $m.Name } }'
}

AfterAll {
    Get-SharedMemory 'queue-*' | Where-Object Name -Match '^queue-[0-9a-f]{12}' | Remove-SharedMemory -Confirm:$false
}

Describe 'New-SharedMemory -Queue' {
    It 'creates a queue whose size is the bytes its messages can take, rounded up to a multiple of 8' {
        $name = New-TestSegmentName 'queue'
        $queue = New-SharedMemory -Name $name -Queue -Size 1001
        $queue.Kind | Should -Be 'Queue'
        $queue.Size | Should -Be 1008
        $queue.MessageCount | Should -Be 0
        $queue.Length | Should -Be 0
        $queue.IsGrowable | Should -BeFalse
        (New-SharedMemory -Name (New-TestSegmentName 'queue') -Queue).Size | Should -Be 64KB
    }

    It 'refuses -Queue with <Parameter> as QueueNotGrowable, and creates nothing' -TestCases @(
        @{ Parameter = '-Growable'; Arguments = @{ Growable = $true } }
        @{ Parameter = '-MaximumSize'; Arguments = @{ MaximumSize = 1MB } }
    ) {
        $name = New-TestSegmentName 'queue'
        $err = try { New-SharedMemory -Name $name -Queue @Arguments } catch { $_ }
        $err.FullyQualifiedErrorId | Should -Be 'QueueNotGrowable,PSSharedMemory.Commands.NewSharedMemoryCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        Get-SharedMemory $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe 'Send-SharedMemoryMessage' {
    It 'sends each piped item as its own message, a byte[] as one, and -Value as one' {
        $name = New-TestQueue
        'a', 'b' | Send-SharedMemoryMessage $name
        [byte[]](1, 2, 3) | Send-SharedMemoryMessage $name
        , [byte[]](4, 5) | Send-SharedMemoryMessage $name
        [pscustomobject]@{ N = 1 }, 2 | Send-SharedMemoryMessage $name
        Send-SharedMemoryMessage $name -Value @('x', 'y')
        (Get-SharedMemory $name).MessageCount | Should -Be 7

        Receive-SharedMemoryMessage $name | Should -BeExactly 'a'
        Receive-SharedMemoryMessage $name | Should -BeExactly 'b'
        $bytes = Receive-SharedMemoryMessage $name
        $bytes.GetType() | Should -Be ([byte[]])
        $bytes -join ',' | Should -Be '1,2,3'
        (Receive-SharedMemoryMessage $name) -join ',' | Should -Be '4,5'
        (Receive-SharedMemoryMessage $name).N | Should -Be 1
        Receive-SharedMemoryMessage $name | Should -Be 2
        # One message, an array: it comes back as its items, as Read-SharedMemory returns a stored array.
        Receive-SharedMemoryMessage $name | Should -Be 'x', 'y'
        (Get-SharedMemory $name).MessageCount | Should -Be 0
    }

    It 'returns each message''s version with -PassThru' {
        $name = New-TestQueue
        'a', 'b', 'c' | Send-SharedMemoryMessage $name -PassThru | Should -Be 1, 2, 3
        Send-SharedMemoryMessage $name -Value 'd' -PassThru | Should -Be 4
        (Get-SharedMemory $name).Version | Should -Be 4
    }

    It 'creates a missing queue of 64 KiB' {
        $name = New-TestSegmentName 'queue'
        'first' | Send-SharedMemoryMessage $name
        $queue = Get-SharedMemory $name
        $queue.Kind | Should -Be 'Queue'
        $queue.Size | Should -Be 64KB
        Receive-SharedMemoryMessage $name | Should -Be 'first'
    }

    It 'sends and creates nothing with -WhatIf' {
        $name = New-TestSegmentName 'queue'
        'x' | Send-SharedMemoryMessage $name -WhatIf
        Get-SharedMemory $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $name = New-TestQueue
        Send-SharedMemoryMessage $name -Value 'x' -WhatIf
        (Get-SharedMemory $name).MessageCount | Should -Be 0
    }

    It 'sends piped values to the queue of a segment object given to -InputObject, and refuses it with -Name too' {
        $name = New-TestQueue
        $queue = Get-SharedMemory $name
        'a', 'b' | Send-SharedMemoryMessage -InputObject $queue
        Receive-SharedMemoryMessage -InputObject $queue -All | Should -Be 'a', 'b'
        # -Name and -InputObject are in parameter sets of their own.
        { 'c' | Send-SharedMemoryMessage -InputObject $queue -Name $name } |
            Should -Throw -ErrorId 'AmbiguousParameterSet,PSSharedMemory.Commands.SendSharedMemoryMessageCommand'
        (Get-SharedMemory $name).MessageCount | Should -Be 0
    }

    It 'keeps the queues of one name in the two scopes apart, and uses the scope of a piped segment object' {
        $name = New-TestSegmentName 'queue'
        try { $null = New-SharedMemory $name -Queue -Scope Global -ErrorAction Stop }
        catch { Set-ItResult -Skipped -Because "the global store is not usable here: $_"; return }
        try {
            'user' | Send-SharedMemoryMessage $name
            'global' | Send-SharedMemoryMessage $name -Scope Global
            $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize((Get-SharedMemory $name -Scope Global)))
            $copy | Send-SharedMemoryMessage -Value 'via the object'
            Receive-SharedMemoryMessage $name -All | Should -Be 'user'
            Receive-SharedMemoryMessage $name -Scope Global -Peek | Should -Be 'global'
            $copy | Receive-SharedMemoryMessage -All | Should -Be 'global', 'via the object'
        }
        finally { Remove-SharedMemory $name -Scope Global }
    }

    It 'needs a queue for piped values: NameRequired, and nothing is sent' {
        { 'a', 'b' | Send-SharedMemoryMessage } | Should -Throw -ErrorId 'NameRequired,PSSharedMemory.Commands.SendSharedMemoryMessageCommand'
    }
}

Describe 'Receive-SharedMemoryMessage' {
    It 'takes -Count messages, then -All, oldest first' {
        $name = New-TestQueue
        1..5 | ForEach-Object { "m$_" } | Send-SharedMemoryMessage $name
        Receive-SharedMemoryMessage $name -Count 2 | Should -Be 'm1', 'm2'
        Receive-SharedMemoryMessage $name -All | Should -Be 'm3', 'm4', 'm5'
        Receive-SharedMemoryMessage $name -All | Should -BeNullOrEmpty
        { Receive-SharedMemoryMessage $name -All -Count 2 } | Should -Throw -ErrorId 'ConflictingParameters,PSSharedMemory.Commands.ReceiveSharedMemoryMessageCommand'
    }

    It 'looks without taking with -Peek' {
        $name = New-TestQueue
        'a', 'b' | Send-SharedMemoryMessage $name
        Receive-SharedMemoryMessage $name -Peek | Should -Be 'a'
        Receive-SharedMemoryMessage $name -Peek -All | Should -Be 'a', 'b'
        (Get-SharedMemory $name).MessageCount | Should -Be 2
        Receive-SharedMemoryMessage $name | Should -Be 'a'
        Receive-SharedMemoryMessage $name -Peek -Count 5 | Should -Be 'b'
    }

    It 'returns any message as text with -AsText and as bytes with -AsByteStream' {
        $name = New-TestQueue
        'AB' | Send-SharedMemoryMessage $name
        Send-SharedMemoryMessage $name -Value ([byte[]](67, 68))
        $bytes = Receive-SharedMemoryMessage $name -AsByteStream
        $bytes.GetType() | Should -Be ([byte[]])
        $bytes -join ',' | Should -Be '65,66'
        Receive-SharedMemoryMessage $name -AsText | Should -BeExactly 'CD'
    }

    It 'returns nothing, and no error, from an empty queue without -Wait' {
        $name = New-TestQueue
        Receive-SharedMemoryMessage $name -ErrorVariable failed | Should -BeNullOrEmpty
        $failed | Should -BeNullOrEmpty
    }

    It 'reports WaitTimeout when -Wait -Timeout passes with the queue still empty' {
        $name = New-TestQueue
        $err = try { Receive-SharedMemoryMessage $name -Wait -Timeout 0.2 } catch { $_ }
        $err.FullyQualifiedErrorId | Should -Be 'WaitTimeout,PSSharedMemory.Commands.ReceiveSharedMemoryMessageCommand'
        $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
        $err = try { Receive-SharedMemoryMessage (New-TestSegmentName 'queue') -Wait -Timeout 0.2 } catch { $_ }
        $err.FullyQualifiedErrorId | Should -Be 'WaitTimeout,PSSharedMemory.Commands.ReceiveSharedMemoryMessageCommand'
    }

    It 'reports SharedMemoryNotFound for a missing queue without -Wait' {
        $err = try { Receive-SharedMemoryMessage (New-TestSegmentName 'queue') } catch { $_ }
        $err.FullyQualifiedErrorId | Should -Be 'SharedMemoryNotFound,PSSharedMemory.Commands.ReceiveSharedMemoryMessageCommand'
        $err.ErrorDetails.RecommendedAction | Should -Match 'New-SharedMemory -Queue'
    }

    It 'waits for the lock another session holds: <Command>' -TestCases @(
        @{ Command = 'Receive-SharedMemoryMessage without -Wait'; Script = 'Receive-SharedMemoryMessage {0}'; Expected = 'a' }
        @{ Command = 'Send-SharedMemoryMessage -Timeout 0'; Script = 'Send-SharedMemoryMessage {0} -Value b -Timeout 0 -PassThru'; Expected = 2 }
    ) {
        # Without -Wait (or with -Timeout 0) they take only what is there (or room there is) now, but another
        # session's send or Lock-SharedMemory is no reason to fail.
        $name = New-TestQueue
        'a' | Send-SharedMemoryMessage $name
        $go = "$name-go"
        $holder = Start-Runspace "Lock-SharedMemory $name { while ((Read-SharedMemory $go -ErrorAction SilentlyContinue) -ne 'go') { Start-Sleep -Milliseconds 20 } }"
        $waiter = $null
        try {
            $deadline = [datetime]::UtcNow.AddSeconds(60)
            while (-not (Get-SharedMemory $name).IsLocked) {
                if ($holder.Async.IsCompleted -or [datetime]::UtcNow -gt $deadline) { throw 'The other session did not take the lock.' }
                Start-Sleep -Milliseconds 20
            }
            $waiter = Start-Runspace ($Script -f $name)
            Wait-SegmentWaiter -Name $name -Word Lock -Abandon { $waiter.Async.IsCompleted }
            'go' | Write-SharedMemory $go
            $waiter.PowerShell.EndInvoke($waiter.Async) | Should -Be $Expected
        }
        finally {
            'go' | Write-SharedMemory $go
            if ($waiter) { $waiter.PowerShell.Dispose() }
            $holder.PowerShell.Dispose()
        }
    }

    It 'waits with -Wait for a queue that does not exist yet, and takes the first message sent to it' {
        $name = New-TestSegmentName 'queue'
        $receiver = Start-Runspace "Receive-SharedMemoryMessage $name -Wait -Timeout 60 -Verbose"
        try {
            # The handshake: the receiver says it waits for the queue to be created before it starts to.
            $deadline = [datetime]::UtcNow.AddSeconds(60)
            while ($receiver.PowerShell.Streams.Verbose.Count -eq 0) {
                if ($receiver.Async.IsCompleted -or [datetime]::UtcNow -gt $deadline) { throw 'The receiver did not wait for the queue.' }
                Start-Sleep -Milliseconds 5
            }
            "$($receiver.PowerShell.Streams.Verbose[0])" | Should -Match 'does not exist yet'
            'created by the send' | Send-SharedMemoryMessage $name
            $receiver.PowerShell.EndInvoke($receiver.Async) | Should -Be 'created by the send'
        }
        finally { $receiver.PowerShell.Dispose() }
    }

    It 'ends a -Wait promptly when the pipeline is stopped (Ctrl+C)' {
        $name = New-TestQueue
        $receiver = Start-Runspace "Receive-SharedMemoryMessage $name -Wait"
        try {
            Wait-SegmentWaiter -Name $name -Word Change -Abandon { $receiver.Async.IsCompleted }
            # The wait has no timeout: only the stop can end it.
            $stopping = $receiver.PowerShell.BeginStop($null, $null)
            $stopping.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(30)) | Should -BeTrue -Because 'a stopped wait ends well within 30 seconds'
            $receiver.PowerShell.EndStop($stopping)
            $receiver.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
            (Get-SharedMemory $name).MessageCount | Should -Be 0
        }
        finally {
            if (-not $receiver.Async.IsCompleted) { 'end' | Send-SharedMemoryMessage $name }
            $receiver.PowerShell.Dispose()
        }
    }
}

Describe 'Limits' {
    It 'refuses a message larger than the queue with PayloadTooLarge, and sends nothing' {
        $name = New-TestQueue -Size 64
        $err = try { Send-SharedMemoryMessage $name -Value ('x' * 100) } catch { $_ }
        $err.FullyQualifiedErrorId | Should -Be 'PayloadTooLarge,PSSharedMemory.Commands.SendSharedMemoryMessageCommand'
        $err.ErrorDetails.RecommendedAction | Should -Match 'New-SharedMemory -Queue'
        $err.ErrorDetails.RecommendedAction | Should -Not -Match 'Growable'
        (Get-SharedMemory $name).MessageCount | Should -Be 0
    }

    It 'fails with SharedMemoryQueueFull after -Timeout <Timeout> on a full queue, and sends nothing' -TestCases @(
        @{ Timeout = 0.2 }, @{ Timeout = 0 }
    ) {
        # 64 bytes take two records of 24 bytes ('a', 'b'); a third does not fit.
        $name = New-TestQueue -Size 64
        'a', 'b' | Send-SharedMemoryMessage $name
        $err = try { Send-SharedMemoryMessage $name -Value 'c' -Timeout $Timeout } catch { $_ }
        $err.FullyQualifiedErrorId | Should -Be 'SharedMemoryQueueFull,PSSharedMemory.Commands.SendSharedMemoryMessageCommand'
        $err.CategoryInfo.Category | Should -Be 'LimitsExceeded'
        $err.ErrorDetails.RecommendedAction | Should -Match 'Receive-SharedMemoryMessage'
        Receive-SharedMemoryMessage $name -All | Should -Be 'a', 'b'
    }

    It 'reports a full queue rather than dropping a message: -ErrorAction Stop stops at the first one that did not fit' {
        $name = New-TestQueue -Size 64
        { 'a', 'b', 'c', 'd' | Send-SharedMemoryMessage $name -Timeout 0 -ErrorAction Stop } |
            Should -Throw -ErrorId 'SharedMemoryQueueFull,PSSharedMemory.Commands.SendSharedMemoryMessageCommand'
        Receive-SharedMemoryMessage $name -All | Should -Be 'a', 'b'
    }
}

Describe 'Values and queues refuse each other''s cmdlets' {
    It '<Cmdlet><Form> on a queue fails with SharedMemoryWrongKind, naming <Advice>' -TestCases @(
        @{ Cmdlet = 'Read-SharedMemory'; Form = ''; Arguments = @{}; Advice = 'Receive-SharedMemoryMessage' }
        @{ Cmdlet = 'Read-SharedMemory'; Form = ' -Wait'; Arguments = @{ Wait = $true; Timeout = 20 }; Advice = 'Receive-SharedMemoryMessage' }
        @{ Cmdlet = 'Write-SharedMemory'; Form = ''; Arguments = @{ Value = 'x' }; Advice = 'Send-SharedMemoryMessage' }
        @{ Cmdlet = 'Write-SharedMemory'; Form = ' -Append'; Arguments = @{ Value = 'x'; Append = $true }; Advice = 'Send-SharedMemoryMessage' }
    ) {
        $name = New-TestQueue
        'kept' | Send-SharedMemoryMessage $name
        $started = [datetime]::UtcNow
        $err = try { & $Cmdlet -Name $name @Arguments } catch { $_ }
        $err.FullyQualifiedErrorId | Should -Be "SharedMemoryWrongKind,PSSharedMemory.Commands.$($Cmdlet -replace '-', '')Command"
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err.ErrorDetails.RecommendedAction | Should -Match $Advice
        # Refused at once, not after a wait for the next send.
        ([datetime]::UtcNow - $started).TotalSeconds | Should -BeLessThan 10
        Receive-SharedMemoryMessage $name -All | Should -Be 'kept'
    }

    It '<Cmdlet><Form> on a value segment fails with SharedMemoryWrongKind, naming Write-SharedMemory and Read-SharedMemory' -TestCases @(
        @{ Cmdlet = 'Send-SharedMemoryMessage'; Form = ''; Arguments = @{ Value = 'x' } }
        @{ Cmdlet = 'Send-SharedMemoryMessage'; Form = ' -Timeout 0'; Arguments = @{ Value = 'x'; Timeout = 0 } }
        @{ Cmdlet = 'Receive-SharedMemoryMessage'; Form = ''; Arguments = @{} }
        @{ Cmdlet = 'Receive-SharedMemoryMessage'; Form = ' -Peek'; Arguments = @{ Peek = $true } }
        @{ Cmdlet = 'Receive-SharedMemoryMessage'; Form = ' -Wait'; Arguments = @{ Wait = $true; Timeout = 5 } }
    ) {
        $name = New-TestSegmentName 'queue'
        'kept' | Write-SharedMemory $name
        $err = try { & $Cmdlet -Name $name @Arguments } catch { $_ }
        $err.FullyQualifiedErrorId | Should -Be "SharedMemoryWrongKind,PSSharedMemory.Commands.$($Cmdlet -replace '-', '')Command"
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err.ErrorDetails.RecommendedAction | Should -Match 'Write-SharedMemory'
        $err.ErrorDetails.RecommendedAction | Should -Match 'Read-SharedMemory'
        Read-SharedMemory $name | Should -Be 'kept'
        (Get-SharedMemory $name).Version | Should -Be 1
    }
}

Describe 'Get-SharedMemory and Remove-SharedMemory on a queue' {
    It 'shows the kind, the message count and the bytes used' {
        $name = New-TestQueue -Size 1024
        # Records: 16-byte headers, payloads padded to 8: 'abc' takes 24 bytes, 'abcdefghi' 32.
        'abc', 'abcdefghi' | Send-SharedMemoryMessage $name
        $queue = Get-SharedMemory $name
        $queue.Kind | Should -Be 'Queue'
        $queue.MessageCount | Should -Be 2
        $queue.Length | Should -Be 56
        $queue.Size | Should -Be 1024
        $queue.Version | Should -Be 2
        $queue.LastWriterProcessId | Should -Be $PID
        (Get-SharedMemory $name | Out-String -Width 200) -split '\r?\n' | Where-Object { $_ -match "^$name\s" } |
            Should -Match "^$name\s+1024\s+56\s+Queue\s+2\s.*\s2\s*$"
        $null = Receive-SharedMemoryMessage $name
        (Get-SharedMemory $name).MessageCount | Should -Be 1
        (Get-SharedMemory $name).Length | Should -Be 32
        $value = New-TestSegmentName 'queue'
        'x' | Write-SharedMemory $value
        (Get-SharedMemory $value).Kind | Should -Be 'Value'
        (Get-SharedMemory $value).MessageCount | Should -Be 0
    }

    It 'keeps Kind and MessageCount in a deserialized segment object' {
        $name = New-TestQueue
        'a' | Send-SharedMemoryMessage $name
        $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize((Get-SharedMemory $name)))
        $copy.Kind | Should -Be 'Queue'
        $copy.MessageCount | Should -Be 1
        ($copy | Get-SharedMemory).Kind | Should -Be 'Queue'
        # What -InputObject binds: the copy converted back into a segment object.
        $bound = [PSSharedMemory.SharedMemoryInfo]$copy
        $bound.Kind | Should -Be 'Queue'
        $bound.MessageCount | Should -Be 1
    }

    It 'removes a queue; a send afterwards creates a new, empty one' {
        $name = New-TestQueue
        'old' | Send-SharedMemoryMessage $name
        Remove-SharedMemory $name
        Get-SharedMemory $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        'new' | Send-SharedMemoryMessage $name
        Receive-SharedMemoryMessage $name -All | Should -Be 'new'
    }

    It 'completes -Name of <Cmdlet> with queues only' -TestCases @(
        @{ Cmdlet = 'Send-SharedMemoryMessage' }, @{ Cmdlet = 'Receive-SharedMemoryMessage' }
    ) {
        $prefix = 'queue-' + [guid]::NewGuid().ToString('N').Substring(0, 12)
        $null = New-SharedMemory "$prefix-q" -Queue
        'x' | Write-SharedMemory "$prefix-v"
        try {
            $line = "$Cmdlet -Name $prefix"
            @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText) | Should -Be @("$prefix-q")
            $line = "Get-SharedMemory -Name $prefix"
            @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Sort-Object) | Should -Be @("$prefix-q", "$prefix-v")
        }
        finally {
            Remove-SharedMemory "$prefix-q", "$prefix-v"
        }
    }
}

Describe 'Between processes' {
    It 'passes strings, byte arrays and objects from a producer process to a consumer process, in order, each once' {
        # A small queue: the producer fills it many times over and waits for the consumer, across the ring's end.
        $name = New-TestQueue -Size 512
        $count = 40
        $consumer = Start-ChildPwsh -Script "$DescribeMessage; for (`$i = 0; `$i -lt $(3 * $count); `$i++) { Show (Receive-SharedMemoryMessage $name -Wait -Timeout 60) }"
        $producer = Start-ChildPwsh -Script "for (`$i = 1; `$i -le $count; `$i++) { Send-SharedMemoryMessage $name -Value ""s`$i""; Send-SharedMemoryMessage $name -Value ([byte[]](`$i, 0, 255)); Send-SharedMemoryMessage $name -Value ([pscustomobject]@{ N = `$i; Name = ""o`$i"" }) }; 'done'"
        Wait-ChildPwsh $producer | Should -Be 'done'
        $received = Wait-ChildPwsh $consumer
        $expected = foreach ($i in 1..$count) { "text:s$i"; "bytes:$i,0,255"; "object:$i,o$i" }
        $received | Should -Be $expected
        (Get-SharedMemory $name).MessageCount | Should -Be 0
    }

    It 'gives each of 3 producers x 100 messages to exactly one of 2 consumers, in each producer''s order' {
        # Small enough that producers wait for room: producers and consumers overlap.
        $name = New-TestQueue -Size 1024
        $done = "$name-done"
        # A consumer stops when the producers are done (the test says so) and the queue is empty: a handshake, and the
        # 0.2 s -Timeout is only the pace at which it looks. One consumer takes one message at a time, the other batches.
        $consume = {
            param($Batch)
            "while (`$true) { `$got = @(Receive-SharedMemoryMessage $name -Count $Batch -Wait -Timeout 0.2 -ErrorAction SilentlyContinue); " +
            "`$got; if (`$got.Count -eq 0 -and (Read-SharedMemory $done -ErrorAction SilentlyContinue) -eq 'done') { Receive-SharedMemoryMessage $name -All; break } }"
        }
        $consumers = @((Start-ChildPwsh -Script (& $consume 1)), (Start-ChildPwsh -Script (& $consume 7)))
        $producers = foreach ($p in 1..3) {
            Start-ChildPwsh -Script "1..100 | ForEach-Object { 'p$p-' + `$_ } | Send-SharedMemoryMessage $name -Timeout 60; 'sent'"
        }
        foreach ($producer in $producers) { Wait-ChildPwsh $producer | Should -Be 'sent' }
        'done' | Write-SharedMemory $done
        $lists = foreach ($consumer in $consumers) { , @(Wait-ChildPwsh $consumer) }

        $all = @($lists[0]) + @($lists[1])
        $expected = foreach ($p in 1..3) { foreach ($n in 1..100) { "p$p-$n" } }
        $all | Sort-Object | Should -Be ($expected | Sort-Object) -Because 'every message is received exactly once'
        foreach ($list in $lists) {
            foreach ($p in 1..3) {
                $numbers = @($list | Where-Object { $_ -like "p$p-*" } | ForEach-Object { [int]($_ -split '-')[1] })
                $numbers | Should -Be ($numbers | Sort-Object) -Because "a consumer gets producer $p's messages in the order they were sent"
            }
        }
        (Get-SharedMemory $name).MessageCount | Should -Be 0
    }

    It 'makes a send to a full queue wait, and continues when another process receives' {
        $name = New-TestQueue -Size 64
        'a', 'b' | Send-SharedMemoryMessage $name
        $sender = Start-ChildPwsh -Script "Send-SharedMemoryMessage $name -Value 'c' -Timeout 60 -PassThru"
        # The handshake: the sender counts itself on the space word just before it sleeps for room.
        Wait-SegmentWaiter -Name $name -Word Space -Abandon { $sender.HasExited }
        (Get-SharedMemory $name).MessageCount | Should -Be 2
        Receive-SharedMemoryMessage $name | Should -Be 'a'
        Wait-ChildPwsh $sender | Should -Be 3
        Receive-SharedMemoryMessage $name -All | Should -Be 'b', 'c'
    }

    It 'wakes a Receive-SharedMemoryMessage -Wait in another process with a send' {
        $name = New-TestQueue
        $receiver = Start-ChildPwsh -Script "Receive-SharedMemoryMessage $name -Wait -Timeout 60"
        Wait-SegmentWaiter -Name $name -Word Change -Abandon { $receiver.HasExited }
        'hello' | Send-SharedMemoryMessage $name
        Wait-ChildPwsh $receiver | Should -Be 'hello'
        (Get-SharedMemory $name).MessageCount | Should -Be 0
    }


    It 'sends and receives through a deserialized segment object in a job' {
        $name = New-TestQueue
        $queue = Get-SharedMemory $name
        'to the job' | Send-SharedMemoryMessage $name
        $fromJob = Start-Job {
            $using:queue | Receive-SharedMemoryMessage
            $using:queue | Send-SharedMemoryMessage -Value 'from the job' -PassThru
        } | Receive-Job -Wait -AutoRemoveJob
        $fromJob | Should -Be 'to the job', 2
        $queue | Receive-SharedMemoryMessage | Should -Be 'from the job'
    }
}
