# The cross-process scenarios that make sense for a remote store, run against both stores from one table:
# the local store (shared memory) and a Redis store (a private redis-server started here on 127.0.0.1).
# Then the Redis-only failures: a restart or a stop during a wait, an unreachable server, a lease lost while
# held, authentication, and the isolated, lazy loading of the Redis client.
BeforeDiscovery {
    $script:Stores = @(@{ Store = 'Local' }, @{ Store = 'Redis' })
}

BeforeAll {
    . $PSScriptRoot/common.ps1
    $script:StartRedis = Join-Path $PSScriptRoot '../tools/Start-RedisServer.ps1'
    $script:RedisMissing = if (-not $IsLinux) {
        # (The Windows lane under Wine counts "Unix only" skips apart from its budget for Wine's gaps.)
        'Unix only: these tests start, restart and pause a redis-server of this machine on 127.0.0.1 and query it with redis-cli'
    }
    elseif (-not (Get-Command -Name redis-server -CommandType Application -ErrorAction SilentlyContinue)) {
        'redis-server is not installed (apt-get install redis-server; .ci/run installs it)'
    }
    $script:Server = if (-not $script:RedisMissing) { & $script:StartRedis }
    $script:LocalStore = $env:PSSHAREDMEMORY_STORE

    function Use-Store([string] $Store) {
        # Children inherit the environment: every process of a test works on the same store.
        $env:PSSHAREDMEMORY_STORE = if ($Store -eq 'Redis') { $script:Server.Uri } else { $script:LocalStore }
    }

    function Skip-WithoutRedis([string] $Store = 'Redis') {
        if ($Store -eq 'Redis' -and $script:RedisMissing) {
            Set-ItResult -Skipped -Because $script:RedisMissing
            return $true
        }
        return $false
    }

    function Wait-Waiter([string] $Store, [string] $Name, [System.Diagnostics.Process] $Child, [int] $Port = $script:Server.Port) {
        # Until the child waits on Name's changes: counted in the header (local), subscribed to its channel (Redis).
        if ($Store -ne 'Redis') {
            Wait-SegmentWaiter -Name $Name -Word Change -Abandon { $Child.HasExited }
            return
        }
        $cli = (Get-Command redis-cli -CommandType Application | Select-Object -First 1).Source
        $channel = "pssm:user:$([Environment]::UserName):{$Name}:events"
        $deadline = [datetime]::UtcNow.AddSeconds(60)
        while ([int](@(& $cli -p $Port --raw PUBSUB NUMSUB $channel)[1]) -eq 0) {
            if ($Child.HasExited) { throw "The child ended before it waited on '$Name'." }
            if ([datetime]::UtcNow -gt $deadline) { throw "Nothing subscribed to '$channel' within 60 seconds." }
            Start-Sleep -Milliseconds 5
        }
    }

    function Start-RemoteWaiter($Server) {
        # A child waiting on a new segment of Server's store, once it waits; it prints how the wait ended.
        $uri = $Server.Uri + '?connectTimeout=2000'
        $name = New-TestSegmentName 'sto'
        Write-SharedMemory -Store $uri -Name $name -Value 'before'
        $child = Start-ChildPwsh -Script "`$s = Get-SharedMemory -Store '$uri' $name; try { `$s | Read-SharedMemory -Wait -Timeout 120 -ErrorAction Stop; 'resumed' } catch { `$_.FullyQualifiedErrorId + ': ' + `$_.Exception.Message }"
        Wait-Waiter 'Redis' $name $child $Server.Port
        $child
    }

    function Wait-Ready([string] $Name) {
        # The handshake: the child writes "<name>-ready" when it is where the test needs it. -NewerThan 0
        # returns at once when that write came first, where -Wait would wait for one after it.
        $null = Read-SharedMemory -Name "$Name-ready" -NewerThan 0 -Timeout 120 -ErrorAction Stop
    }
}

AfterAll {
    $env:PSSHAREDMEMORY_STORE = $script:LocalStore
    if ($script:Server) { $script:Server.Stop() }
}

Describe 'Both stores: <Store>' -ForEach $Stores {
    BeforeEach {
        if (-not (Skip-WithoutRedis $Store)) { Use-Store $Store }
    }

    AfterEach {
        $env:PSSHAREDMEMORY_STORE = $script:LocalStore
    }

    It 'runs the two windows story across processes' {
        if (Skip-WithoutRedis $Store) { return }
        $name = New-TestSegmentName 'sto'
        $null = New-SharedMemory -Name $name -Size 4KB
        Write-SharedMemory -Name $name -Value 'step 1 of 3 done'
        $child = Start-ChildPwsh -Script @"
Read-SharedMemory -Name $name
(Get-SharedMemory -Name $name).Store
Write-SharedMemory -Name '$name-ready' -Value 1
Read-SharedMemory -Name $name -Wait -Timeout 60
"@
        Wait-Ready $name
        Write-SharedMemory -Name $name -Value 'step 2 of 3 done'
        $out = Wait-ChildPwsh -Process $child
        $expectedStore = if ($Store -eq 'Redis') { $script:Server.Uri } else { 'Local' }
        $out | Should -Be @('step 1 of 3 done', $expectedStore, 'step 2 of 3 done')
        (Get-SharedMemory -Name $name).Store | Should -Be $expectedStore
        Remove-SharedMemory -Name $name, "$name-ready"
        Get-SharedMemory -Name $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'hands objects to another process with their shape' {
        if (Skip-WithoutRedis $Store) { return }
        $name = New-TestSegmentName 'sto'
        @([pscustomobject]@{ Name = 'a'; Count = 1 }, [pscustomobject]@{ Name = 'b'; Count = 2 }) | Write-SharedMemory -Name $name
        $out = Invoke-ChildPwsh -Script "Read-SharedMemory $name | ForEach-Object { `$_.Name + '=' + `$_.Count }"
        $out | Should -Be @('a=1', 'b=2')
        Remove-SharedMemory -Name $name
    }

    It 'hands bytes to another process unchanged' {
        if (Skip-WithoutRedis $Store) { return }
        $name = New-TestSegmentName 'sto'
        $bytes = [byte[]]::new(300KB); [Random]::new(11).NextBytes($bytes)
        Write-SharedMemory -Name $name -Value $bytes
        $hash = [BitConverter]::ToString([Security.Cryptography.SHA256]::Create().ComputeHash($bytes))
        $out = Invoke-ChildPwsh -Script "`$b = Read-SharedMemory $name; `$b.GetType().Name; [BitConverter]::ToString([Security.Cryptography.SHA256]::Create().ComputeHash(`$b))"
        $out | Should -Be @('Byte[]', $hash)
        Remove-SharedMemory -Name $name
    }

    It 'loses no increment of 4 processes x 50 under the lock' {
        if (Skip-WithoutRedis $Store) { return }
        $name = New-TestSegmentName 'sto'
        Write-SharedMemory -Name $name -Value 0
        $script = @"
1..50 | ForEach-Object {
    Lock-SharedMemory -Name $name -ScriptBlock { `$n = [int](Read-SharedMemory $name); Write-SharedMemory $name (`$n + 1) }
}
'done'
"@
        $children = 1..4 | ForEach-Object { Start-ChildPwsh -Script $script }
        foreach ($child in $children) { Wait-ChildPwsh -Process $child -TimeoutSeconds 180 | Should -Be 'done' }
        Read-SharedMemory $name | Should -Be 200
        Remove-SharedMemory -Name $name
    }

    It 'gives the lock of a killed holder to the next process within the lease' {
        if (Skip-WithoutRedis $Store) { return }
        $name = New-TestSegmentName 'sto'
        $child = Start-ChildPwsh -Script "Lock-SharedMemory -Name $name; Write-SharedMemory -Name '$name-ready' -Value `$PID; Start-Sleep -Seconds 300"
        try {
            Wait-Ready $name
            (Get-SharedMemory -Name $name).LockHolderProcessId | Should -Be $child.Id
            $child.Kill()
            $child.WaitForExit()
            # The local store's lock goes with the process; a Redis lease within its 3 seconds.
            # (The local store also warns that the holder died; some hosts print warnings on standard output.)
            Invoke-ChildPwsh -Script "Lock-SharedMemory -Name $name -Timeout 6 -WarningAction SilentlyContinue; 'locked'; Unlock-SharedMemory -Name $name" | Should -Be 'locked'
        }
        finally {
            if (-not $child.HasExited) { $child.Kill() }
        }
        Remove-SharedMemory -Name $name, "$name-ready"
    }

    It 'wakes a wait in another process when this one writes' {
        if (Skip-WithoutRedis $Store) { return }
        $name = New-TestSegmentName 'sto'
        Write-SharedMemory -Name $name -Value 'before'
        $child = Start-ChildPwsh -Script "`$s = Get-SharedMemory $name; Write-SharedMemory -Name '$name-ready' -Value 1; `$s | Read-SharedMemory -Wait -Timeout 60"
        Wait-Ready $name
        Write-SharedMemory -Name $name -Value 'after'
        Wait-ChildPwsh -Process $child | Should -Be 'after'
        Remove-SharedMemory -Name $name, "$name-ready"
    }

    It 'ends a wait in another process with SharedMemoryRemoved on removal' {
        if (Skip-WithoutRedis $Store) { return }
        $name = New-TestSegmentName 'sto'
        Write-SharedMemory -Name $name -Value 'here'
        $child = Start-ChildPwsh -Script "try { Read-SharedMemory -Name $name -Wait -Timeout 60 -ErrorAction Stop; 'changed' } catch { `$_.FullyQualifiedErrorId }"
        Wait-Waiter $Store $name $child
        Remove-SharedMemory -Name $name
        Wait-ChildPwsh -Process $child | Should -Be 'SharedMemoryRemoved,PSSharedMemory.Commands.ReadSharedMemoryCommand'
        Get-SharedMemory -Name $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'lists names with wildcards and sends queue messages each received once' {
        if (Skip-WithoutRedis $Store) { return }
        $prefix = New-TestSegmentName 'sto'
        Write-SharedMemory -Name "$prefix-a" -Value 1
        Write-SharedMemory -Name "$prefix-b" -Value 2
        (Get-SharedMemory -Name "$prefix-*").Name | Should -Be @("$prefix-a", "$prefix-b")
        1..20 | ForEach-Object { Send-SharedMemoryMessage -Name "$prefix-q" -Value "m$_" }
        $children = 1..2 | ForEach-Object { Start-ChildPwsh -Script "Receive-SharedMemoryMessage -Name $prefix-q -Count 20" }
        $got = foreach ($child in $children) { Wait-ChildPwsh -Process $child }
        @($got | Sort-Object { [int]($_.Substring(1)) }) | Should -Be (1..20 | ForEach-Object { "m$_" })
        Remove-SharedMemory -Name "$prefix-*"
    }
}

Describe 'Redis store only' {
    BeforeEach {
        if (-not $script:RedisMissing) { Use-Store 'Redis' }
    }

    AfterEach {
        $env:PSSHAREDMEMORY_STORE = $script:LocalStore
    }

    It 'ends a wait with a clear error when the server restarts without the segment' {
        if (Skip-WithoutRedis) { return }
        $own = & $script:StartRedis
        try {
            $child = Start-RemoteWaiter $own
            $port = $own.Port
            $own.Stop()
            $own = & $script:StartRedis -Port $port
            $out = Wait-ChildPwsh -Process $child -TimeoutSeconds 60
            $out | Should -Match '^SharedMemoryRemoved,PSSharedMemory.Commands.ReadSharedMemoryCommand: .*restarted'
        }
        finally {
            $own.Stop()
        }
    }

    It 'ends a wait with StoreUnavailable when the server stops, saying how long it waited' {
        if (Skip-WithoutRedis) { return }
        $own = & $script:StartRedis
        try {
            $child = Start-RemoteWaiter $own
            $own.Stop()
            $out = Wait-ChildPwsh -Process $child -TimeoutSeconds 60
            $out | Should -Match '^StoreUnavailable,PSSharedMemory.Commands.ReadSharedMemoryCommand: .*waited \d+\.\d s'
        }
        finally {
            $own.Stop()
        }
    }

    It 'reports an unreachable server as StoreUnavailable within its connect timeout' {
        if (Skip-WithoutRedis) { return }
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start(); $port = ([System.Net.IPEndPoint]$listener.LocalEndpoint).Port; $listener.Stop()
        $watch = [Diagnostics.Stopwatch]::StartNew()
        Write-SharedMemory -Store "redis://127.0.0.1:$port/0?connectTimeout=1000" -Name 'unreachable' -Value 1 -ErrorVariable failed -ErrorAction SilentlyContinue
        $watch.Stop()
        $failed[0].FullyQualifiedErrorId | Should -Be 'StoreUnavailable,PSSharedMemory.Commands.WriteSharedMemoryCommand'
        $failed[0].CategoryInfo.Category | Should -Be 'ConnectionError'
        $failed[0].Exception.Message | Should -Match "127\.0\.0\.1:$port.*waited"
        # Never a hang: a bound far above the 1 s asked for, far below a stuck command.
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 30
    }

    It 'fails the next command under a lock whose lease was lost while held with LockLost' {
        if (Skip-WithoutRedis) { return }
        $name = New-TestSegmentName 'sto'
        Write-SharedMemory -Name $name -Value 'start'
        $child = Start-ChildPwsh -Script @"
Lock-SharedMemory -Name $name
Write-SharedMemory -Store Local -Name '$name-ready' -Value 1
`$null = Read-SharedMemory -Store Local -Name '$name-go' -NewerThan 0 -Timeout 120
try { Write-SharedMemory -Name $name -Value 'late' -ErrorAction Stop; 'wrote' } catch { `$_.FullyQualifiedErrorId }
try { Unlock-SharedMemory -Name $name -ErrorAction Stop; 'unlocked' } catch { `$_.FullyQualifiedErrorId }
"@
        # The handshakes go through the local store: no Redis command of the child is in flight when it
        # is paused, so the pause costs it the lease and nothing else.
        try {
            $null = Read-SharedMemory -Store Local -Name "$name-ready" -NewerThan 0 -Timeout 120 -ErrorAction Stop
            & kill -STOP $child.Id
            # Paused past its lease: the lock is free for another process.
            Lock-SharedMemory -Name $name -Timeout 15
            Write-SharedMemory -Name $name -Value 'mine'
            & kill -CONT $child.Id
            Write-SharedMemory -Store Local -Name "$name-go" -Value 1
            $out = Wait-ChildPwsh -Process $child
            $out | Should -Be @('LockLost,PSSharedMemory.Commands.WriteSharedMemoryCommand', 'LockLost,PSSharedMemory.Commands.UnlockSharedMemoryCommand')
            Read-SharedMemory -Name $name | Should -Be 'mine'
            (Get-SharedMemory -Name $name).LockHolderProcessId | Should -Be $PID
            Unlock-SharedMemory -Name $name
        }
        finally {
            if (-not $child.HasExited) { & kill -CONT $child.Id; $child.Kill() }
        }
        Remove-SharedMemory -Name $name
        Remove-SharedMemory -Store Local -Name "$name-ready", "$name-go"
    }

    It 'takes the password from the URI, and refuses a missing or wrong one with AuthenticationFailed' {
        if (Skip-WithoutRedis) { return }
        $secured = & $script:StartRedis -Password 'p@ss:word'
        try {
            $name = New-TestSegmentName 'sto'
            Write-SharedMemory -Store $secured.Uri -Name $name -Value 'secret'
            Invoke-ChildPwsh -Script "Read-SharedMemory -Store '$($secured.Uri)' -Name $name" | Should -Be 'secret'
            # In a fresh process: this one has a connection that already authenticated, which a URI without
            # a password of the same server and database reuses (as a segment object's Store does).
            $out = Invoke-ChildPwsh -Script @"
Read-SharedMemory -Store 'redis://127.0.0.1:$($secured.Port)/0' -Name $name -ErrorVariable failed -ErrorAction SilentlyContinue
`$failed[0].FullyQualifiedErrorId
Read-SharedMemory -Store 'redis://:notthepassword@127.0.0.1:$($secured.Port)/0' -Name $name -ErrorVariable failed -ErrorAction SilentlyContinue
`$failed[0].FullyQualifiedErrorId
`$failed[0].Exception.Message -match 'notthepassword'
"@
            $out | Should -Be @('AuthenticationFailed,PSSharedMemory.Commands.ReadSharedMemoryCommand', 'AuthenticationFailed,PSSharedMemory.Commands.ReadSharedMemoryCommand', 'False')
        }
        finally {
            $secured.Stop()
        }
    }

    It 'reads the password from a SecretManagement secret named in the URI' {
        if (Skip-WithoutRedis) { return }
        $secured = & $script:StartRedis -Password 'from-vault'
        try {
            $out = Invoke-ChildPwsh -Script @"
function Get-Secret { param(`$Name, `$Vault, [switch] `$AsPlainText) if (`$Name -eq 'redis' -and `$Vault -eq 'ci') { 'from-vault' } }
Write-SharedMemory -Store 'redis://127.0.0.1:$($secured.Port)/0?secret=redis&vault=ci' -Name vaulted -Value 'ok'
Read-SharedMemory -Store 'redis://127.0.0.1:$($secured.Port)/0?secret=redis&vault=ci' -Name vaulted
"@
            $out | Should -Be 'ok'
        }
        finally {
            $secured.Stop()
        }
    }

    It 'refuses a payload larger than the segment with PayloadTooLarge' {
        if (Skip-WithoutRedis) { return }
        $name = New-TestSegmentName 'sto'
        $null = New-SharedMemory -Name $name -Size 16
        Write-SharedMemory -Name $name -Value ('x' * 100) -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -Be 'PayloadTooLarge,PSSharedMemory.Commands.WriteSharedMemoryCommand'
        Remove-SharedMemory -Name $name
    }

    It 'loads no Redis assembly for the local store, and the Redis client in a load context of its own on use' {
        if (Skip-WithoutRedis) { return }
        $out = Invoke-ChildPwsh -Script @"
`$env:PSSHAREDMEMORY_STORE = '$script:LocalStore'
function Loaded { [AppDomain]::CurrentDomain.GetAssemblies().GetName().Name | Where-Object { `$_ -match 'Redis|Pipelines' } }
Write-SharedMemory -Name 'alc-$PID' -Value 1; `$null = Read-SharedMemory -Name 'alc-$PID'; Remove-SharedMemory -Name 'alc-$PID'
'local:' + (@(Loaded) -join ',')
Write-SharedMemory -Store '$($script:Server.Uri)' -Name 'alc-$PID' -Value 1
Remove-SharedMemory -Store '$($script:Server.Uri)' -Name 'alc-$PID'
foreach (`$name in 'StackExchange.Redis', 'PSSharedMemory.Redis', 'System.IO.Pipelines') {
    `$assembly = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq `$name } | Select-Object -First 1
    `$name + ':' + [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$assembly).Name
}
"@
        $out | Should -Be @('local:', 'StackExchange.Redis:PSSharedMemory.Redis', 'PSSharedMemory.Redis:PSSharedMemory.Redis', 'System.IO.Pipelines:PSSharedMemory.Redis')
    }

    It 'keeps user scope under a prefix with the user name, apart from the global scope' {
        if (Skip-WithoutRedis) { return }
        $name = New-TestSegmentName 'sto'
        Write-SharedMemory -Name $name -Value 'mine'
        Write-SharedMemory -Name $name -Value 'everyone' -Scope Global
        Read-SharedMemory -Name $name | Should -Be 'mine'
        Read-SharedMemory -Name $name -Scope Global | Should -Be 'everyone'
        $cli = (Get-Command redis-cli -CommandType Application | Select-Object -First 1).Source
        & $cli -p $script:Server.Port --raw HGET "pssm:user:$([Environment]::UserName):{$name}" data | Should -Be 'mine'
        & $cli -p $script:Server.Port --raw HGET "pssm:global:{$name}" data | Should -Be 'everyone'
        Remove-SharedMemory -Name $name
        Remove-SharedMemory -Name $name -Scope Global
    }
}
