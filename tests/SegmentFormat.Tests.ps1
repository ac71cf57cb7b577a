# Checks docs/segment-format.md against the real thing: segments written by the module are read by
# tests/read_segment.py, a reader written from the document alone (Python standard library only).

BeforeDiscovery {
    $script:Python = Get-Command python3, python -CommandType Application -ErrorAction SilentlyContinue |
        Where-Object { & $_.Source -c 'import sys; sys.exit(0 if sys.version_info >= (3, 6) else 1)' 2>$null; $LASTEXITCODE -eq 0 } |
        Select-Object -First 1
    $script:NoPython = $null -eq $script:Python
    if ($script:NoPython) {
        Write-Warning 'SegmentFormat.Tests.ps1: python3 was not found on PATH, so the segment format is not checked (tests skipped).'
    }
}

BeforeAll {
    . $PSScriptRoot/common.ps1

    $script:Reader = Join-Path $PSScriptRoot 'read_segment.py'
    $script:PythonPath = Get-Command python3, python -CommandType Application -ErrorAction SilentlyContinue |
        Where-Object { & $_.Source -c 'import sys; sys.exit(0 if sys.version_info >= (3, 6) else 1)' 2>$null; $LASTEXITCODE -eq 0 } |
        Select-Object -First 1 -ExpandProperty Source
    $script:Engine = [PSSharedMemory.Engine.SharedMemorySegment]
    $script:UnixEpochTicks = 621355968000000000

    function Invoke-Reader {
        # Runs read_segment.py; returns its JSON as an object with the exit code added.
        param([string[]] $Arguments)
        $json = & $script:PythonPath $script:Reader @Arguments
        $code = $LASTEXITCODE
        $result = $json | ConvertFrom-Json
        $result | Add-Member -NotePropertyName ExitCode -NotePropertyValue $code -PassThru
    }

    function Start-Reader {
        # Starts read_segment.py without waiting for it; its standard output is collected in StdOutTask.
        # Standard error is left to the caller, which reads the --ready handshake from it.
        param([string[]] $Arguments)
        $info = [System.Diagnostics.ProcessStartInfo]::new($script:PythonPath)
        foreach ($argument in @($script:Reader) + $Arguments) { $info.ArgumentList.Add($argument) }
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $info.UseShellExecute = $false
        $process = [System.Diagnostics.Process]::Start($info)
        $process | Add-Member -NotePropertyName StdOutTask -NotePropertyValue $process.StandardOutput.ReadToEndAsync() -PassThru
    }

    function Get-SegmentPath([string] $Name, [string] $Scope = 'User') {
        Join-Path $script:Engine::GetStoreDirectory($Scope) "$Name.pssm"
    }

    function Get-UnixNanoseconds([datetime] $Utc) { ($Utc.Ticks - $script:UnixEpochTicks) * 100 }

    function Set-HeaderBytes {
        # Overwrites header bytes in the segment file; the shared mapping sees them at once.
        param([string] $Path, [int] $Offset, [byte[]] $Bytes)
        $stream = [System.IO.File]::Open($Path, 'Open', 'ReadWrite', 'ReadWrite')
        try {
            $stream.Position = $Offset
            $stream.Write($Bytes, 0, $Bytes.Length)
        }
        finally { $stream.Dispose() }
    }

    function Get-HeaderUInt64([string] $Path, [int] $Offset) {
        $stream = [System.IO.File]::Open($Path, 'Open', 'Read', 'ReadWrite')
        try {
            $buffer = [byte[]]::new(8)
            $stream.Position = $Offset
            $null = $stream.Read($buffer, 0, 8)
            [BitConverter]::ToUInt64($buffer, 0)
        }
        finally { $stream.Dispose() }
    }

    $script:Created = [System.Collections.Generic.List[object]]::new()
}

AfterAll {
    foreach ($segment in $script:Created) {
        $null = [PSSharedMemory.Engine.SharedMemorySegment]::Remove($segment.Name, $segment.Scope)
    }
}

Describe 'The segment format document (python3 reader)' {
    BeforeEach {
        # Under Wine (build.ps1 -Task TestWindows) the prefix has no Windows Python, and a Linux python3
        # cannot take the Windows paths of the Wine store.
        if (-not $script:PythonPath) { Set-ItResult -Skipped -Because 'python3 is not on PATH (under Wine: no Windows Python in the prefix)' }
    }

    It 'reads a <Scenario> written by Write-SharedMemory exactly as the module does' -TestCases @(
        @{ Scenario = 'UTF-8 text payload'; Value = "Grüße, 世界 ✓ — line one`nline two"; ContentType = 'Text' }
        @{ Scenario = 'bytes payload'; Value = [byte[]](0..255 + 255..0); ContentType = 'Bytes' }
        @{ Scenario = 'CliXml payload'; Value = [pscustomobject]@{ Id = 42; Tags = 'a', 'b'; When = [datetime]'2024-01-02T03:04:05Z' }; ContentType = 'CliXml' }
        @{ Scenario = 'empty string'; Value = ''; ContentType = 'Text' }
    ) {
        param($Scenario, $Value, $ContentType)
        $name = New-TestSegmentName 'format'
        $script:Created.Add([pscustomobject]@{ Name = $name; Scope = 'User' })
        Write-SharedMemory -Name $name -Value $Value

        $segment = $script:Engine::Open($name, 'User')
        try {
            $info = $segment.GetInfo()
            $content = $segment.Read()
        }
        finally { $segment.Dispose() }
        $read = Invoke-Reader (Get-SegmentPath $name)

        $read.ExitCode | Should -Be 0
        $read.status | Should -Be 'ok'
        $read.magic_ascii | Should -Be 'PSSHMEM'
        # Write-SharedMemory creates growable segments: layout 2, as large as the payload needs.
        $read.layout_version | Should -Be 2
        $read.growable | Should -BeTrue
        $read.header_size | Should -Be 128
        $read.size | Should -Be $info.Size
        $read.max_size | Should -Be $info.MaximumSize
        $read.file_size | Should -Be ($info.Size + 128)
        $read.reserved_zero | Should -BeTrue
        $read.global | Should -BeFalse
        $read.removed | Should -BeFalse
        $read.content_type_name | Should -Be $ContentType
        $read.content_type | Should -Be ([int]$info.ContentType)
        $read.length | Should -Be $info.Length
        $read.sequence | Should -Be $info.Sequence
        $read.raw_sequence | Should -Be (2 * $info.Sequence)
        $read.last_writer_pid | Should -Be $PID
        $read.creator_pid | Should -Be $info.CreatorProcessId
        $read.creation_time_ns | Should -Be (Get-UnixNanoseconds $info.CreationTimeUtc)
        $read.last_write_time_ns | Should -Be (Get-UnixNanoseconds $info.LastWriteTimeUtc)
        $expectedHash = [System.BitConverter]::ToString([System.Security.Cryptography.SHA256]::Create().ComputeHash($content.Data)).Replace('-', '').ToLowerInvariant()
        $read.sha256 | Should -Be $expectedHash

        switch ($ContentType) {
            'Text' { $read.text | Should -BeExactly $Value }
            'Bytes' { [Convert]::FromBase64String($read.base64) | Should -Be $Value }
            'CliXml' {
                $read.text | Should -BeExactly ([System.Text.Encoding]::UTF8.GetString($content.Data))
                $back = [System.Management.Automation.PSSerializer]::Deserialize($read.text)
                $back.Id | Should -Be 42
                $back.Tags | Should -Be @('a', 'b')
            }
        }
    }

    It 'finds a segment by name in the store, and reads a segment of fixed size (layout 1) as before: an exact size, no MaxSize, an Empty payload' {
        $name = New-TestSegmentName 'format'
        $script:Created.Add([pscustomobject]@{ Name = $name; Scope = 'User' })
        $null = New-SharedMemory -Name $name -Size 1001

        $read = Invoke-Reader @('--name', $name)

        $read.status | Should -Be 'ok'
        $read.path | Should -Be (Get-SegmentPath $name)
        $read.layout_version | Should -Be 1
        $read.growable | Should -BeFalse
        $read.size | Should -Be 1001
        $read.max_size | Should -Be 0
        $read.file_size | Should -Be 1129
        $read.mapped_size | Should -Be 1001
        $read.remaps | Should -Be 0
        $read.reserved_zero | Should -BeTrue
        $read.content_type_name | Should -Be 'Empty'
        $read.length | Should -Be 0
        $read.sequence | Should -Be 0
        $read.last_writer_pid | Should -Be 0
        $read.last_write_time_ns | Should -Be $read.creation_time_ns

        Write-SharedMemory -Name $name -Value 'fixed'
        $read = Invoke-Reader @('--name', $name)
        $read.status | Should -Be 'ok'
        $read.size | Should -Be 1001
        $read.file_size | Should -Be 1129
        $read.text | Should -BeExactly 'fixed'
    }

    It 'reads the header of a growable segment (layout 2) that New-SharedMemory -Growable -MaximumSize made, before and after it grows' {
        $name = New-TestSegmentName 'format'
        $script:Created.Add([pscustomobject]@{ Name = $name; Scope = 'User' })
        $made = New-SharedMemory -Name $name -Growable -Size 5000 -MaximumSize 1MB
        $made.IsGrowable | Should -BeTrue
        $path = Get-SegmentPath $name

        $read = Invoke-Reader $path

        $read.status | Should -Be 'ok'
        $read.layout_version | Should -Be 2
        $read.growable | Should -BeTrue
        $read.size | Should -Be 5000
        $read.max_size | Should -Be 1048576
        $read.max_size | Should -Be $made.MaximumSize
        $read.file_size | Should -Be 5128
        $read.reserved_zero | Should -BeTrue
        $read.content_type_name | Should -Be 'Empty'
        $read.length | Should -Be 0
        $read.sequence | Should -Be 0

        $value = 'grown ' * 20000
        Write-SharedMemory -Name $name -Value $value
        $grown = Get-SharedMemory -Name $name
        $grown.Size | Should -BeGreaterThan 5000 -Because 'a 120000-byte payload does not fit 5000 bytes'

        $read = Invoke-Reader $path

        $read.status | Should -Be 'ok'
        $read.size | Should -Be $grown.Size
        $read.max_size | Should -Be 1048576
        $read.file_size | Should -BeGreaterOrEqual ($grown.Size + 128)
        $read.length | Should -Be 120000
        $read.text | Should -BeExactly $value
    }

    It 'sees the Global flag and the store directory of a global segment' {
        $name = New-TestSegmentName 'format'
        $script:Created.Add([pscustomobject]@{ Name = $name; Scope = 'Global' })
        Write-SharedMemory -Name $name -Scope Global -Value 'for everyone'

        $read = Invoke-Reader @('--name', $name, '--global')

        $read.status | Should -Be 'ok'
        $read.path | Should -Be (Get-SegmentPath $name 'Global')
        $read.global | Should -BeTrue
        $read.flags | Should -Be 2
        $read.text | Should -BeExactly 'for everyone'
    }

    It 'sees the lock and its owner while another session holds it' {
        $name = New-TestSegmentName 'format'
        $script:Created.Add([pscustomobject]@{ Name = $name; Scope = 'User' })
        Write-SharedMemory -Name $name -Value 'locked'
        $path = Get-SegmentPath $name

        $free = Invoke-Reader $path
        $free.lock_free | Should -BeTrue
        $free.lock_owner_pid | Should -Be 0

        Lock-SharedMemory -Name $name
        try {
            $held = Invoke-Reader $path
        }
        finally {
            Unlock-SharedMemory -Name $name
        }
        $held.status | Should -Be 'ok'
        $held.text | Should -BeExactly 'locked'
        $held.lock_free | Should -BeFalse
        $held.lock_owner_pid | Should -Be $PID

        $released = Invoke-Reader $path
        $released.lock_free | Should -BeTrue
        $released.lock_owner_pid | Should -Be 0
    }

    It 'reports an interrupted write where the module does, and the next write repairs it as documented' {
        $name = New-TestSegmentName 'format'
        $script:Created.Add([pscustomobject]@{ Name = $name; Scope = 'User' })
        Write-SharedMemory -Name $name -Value 'first'
        Write-SharedMemory -Name $name -Value 'second'
        $path = Get-SegmentPath $name
        $raw = Get-HeaderUInt64 $path 24
        $raw | Should -Be 4

        # A writer that died after step 2 of the write protocol: Sequence odd, lock free.
        Set-HeaderBytes $path 24 ([BitConverter]::GetBytes([uint64]($raw + 1)))

        $read = Invoke-Reader $path
        $read.status | Should -Be 'interrupted'
        $read.ExitCode | Should -Be 3
        { Read-SharedMemory -Name $name -Timeout 5 -ErrorAction Stop } | Should -Throw -ErrorId 'InterruptedWrite,PSSharedMemory.Commands.ReadSharedMemoryCommand'

        # The next writer goes from odd s to s + 2 (odd), then s + 3 (even).
        Write-SharedMemory -Name $name -Value 'third'
        $read = Invoke-Reader $path
        $read.status | Should -Be 'ok'
        $read.raw_sequence | Should -Be ($raw + 4)
        $read.sequence | Should -Be (($raw + 4) / 2)
        $read.text | Should -BeExactly 'third'
        (Get-SharedMemory -Name $name).Version | Should -Be $read.sequence
    }

    It 'rejects a layout <Layout> segment whose <Scenario>, as the module does' -TestCases @(
        # Layout 2: made by Write-SharedMemory, Size 4096 and MaxSize 1 TiB; the file holds 128 + 4096 bytes.
        @{ Layout = 2; Scenario = 'magic is wrong'; Offset = 0; Bytes = [byte[]][char[]]'XXSHMEM'; Reason = 'bad magic' }
        @{ Layout = 2; Scenario = 'layout version is unknown'; Offset = 8; Bytes = [byte[]](3, 0); Reason = 'layout version 3\b' }
        @{ Layout = 2; Scenario = 'header size is not 128'; Offset = 10; Bytes = [byte[]](64, 0); Reason = 'header size 64' }
        @{ Layout = 2; Scenario = 'flags have an unknown bit'; Offset = 12; Bytes = [BitConverter]::GetBytes([uint32]8); Reason = 'unknown flags' }
        @{ Layout = 2; Scenario = 'payload length exceeds the size'; Offset = 32; Bytes = [BitConverter]::GetBytes([uint64]1000000); Reason = 'payload length 1000000' }
        @{ Layout = 2; Scenario = 'content type is unknown'; Offset = 40; Bytes = [BitConverter]::GetBytes([uint32]9); Reason = 'content type 9' }
        @{ Layout = 2; Scenario = 'Size is above MaxSize'; Offset = 96; Bytes = [BitConverter]::GetBytes([uint64]4095); Reason = 'size 4096 and max size 4095' }
        @{ Layout = 2; Scenario = 'MaxSize is above 2^40'; Offset = 96; Bytes = [BitConverter]::GetBytes([uint64]1099511627777); Reason = 'max size 1099511627777' }
        @{ Layout = 2; Scenario = 'Size is 0'; Offset = 16; Bytes = [BitConverter]::GetBytes([uint64]0); Reason = 'size 0 and' }
        @{ Layout = 2; Scenario = 'file is shorter than 128 + Size'; Offset = 16; Bytes = [BitConverter]::GetBytes([uint64]8192); Reason = 'size 8192 but the file holds only 4096' }
        # Within the 4096 bytes the file and the mapping hold, but above Size: still out of range.
        @{ Layout = 2; Scenario = 'Size is below the payload length'; Offset = 16; Bytes = [BitConverter]::GetBytes([uint64]10); Reason = 'payload length 15' }
        # Layout 1: made by New-SharedMemory -Size 4096.
        @{ Layout = 1; Scenario = 'size does not match the file'; Offset = 16; Bytes = [BitConverter]::GetBytes([uint64]999); Reason = 'size 999 but the file holds 4096' }
        @{ Layout = 1; Scenario = 'layout version is unknown'; Offset = 8; Bytes = [byte[]](0, 0); Reason = 'layout version 0\b' }
        @{ Layout = 1; Scenario = 'layout version says growable but MaxSize is 0'; Offset = 8; Bytes = [byte[]](2, 0); Reason = 'max size 0' }
    ) {
        param($Layout, $Scenario, $Offset, $Bytes, $Reason)
        $name = New-TestSegmentName 'format'
        $script:Created.Add([pscustomobject]@{ Name = $name; Scope = 'User' })
        if ($Layout -eq 1) { $null = New-SharedMemory -Name $name -Size 4096 }
        Write-SharedMemory -Name $name -Value 'valid until now'
        $path = Get-SegmentPath $name
        $before = Invoke-Reader $path
        $before.status | Should -Be 'ok'
        $before.layout_version | Should -Be $Layout
        $before.size | Should -Be 4096

        Set-HeaderBytes $path $Offset $Bytes

        $read = Invoke-Reader $path
        $read.status | Should -Be 'corrupted'
        $read.ExitCode | Should -Be 4
        $read.error | Should -Match $Reason
        { Get-SharedMemory -Name $name -ErrorAction Stop } | Should -Throw -ErrorId 'SharedMemoryCorrupted,PSSharedMemory.Commands.GetSharedMemoryCommand'
    }

    It 'never accepts a torn payload while another process writes as fast as it can' {
        $name = New-TestSegmentName 'format'
        $script:Created.Add([pscustomobject]@{ Name = $name; Scope = 'User' })
        # Payload b: 1000 + 37*b bytes, every one equal to b (what check_uniform in the reader expects).
        $null = New-SharedMemory -Name $name -Size (1000 + 37 * 250)
        $stopFile = Join-Path ([System.IO.Path]::GetTempPath()) "$name.stop"

        $writer = Start-ChildPwsh -Script @"
`$segment = [PSSharedMemory.Engine.SharedMemorySegment]::Open('$name', 'User')
`$payloads = foreach (`$b in 0..250) { `$p = [byte[]]::new(1000 + 37 * `$b); [Array]::Fill(`$p, [byte]`$b); ,`$p }
`$clock = [Diagnostics.Stopwatch]::StartNew()
`$i = 0
while (-not (Test-Path -LiteralPath '$stopFile') -and `$clock.Elapsed.TotalSeconds -lt 60) {
    for (`$k = 0; `$k -lt 200; `$k++) { `$null = `$segment.Write(`$payloads[`$i % 251], 'Bytes'); `$i++ }
}
`$segment.Dispose()
"writes=`$i"
"@
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while ((Get-SharedMemory -Name $name).Version -lt 1000 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            $before = (Get-SharedMemory -Name $name).Version
            $read = Invoke-Reader @((Get-SegmentPath $name), '--repeat', '20000')
            $after = (Get-SharedMemory -Name $name).Version
        }
        finally {
            $null = New-Item -ItemType File -Path $stopFile -Force
            $output = Wait-ChildPwsh -Process $writer -TimeoutSeconds 120
            Remove-Item -LiteralPath $stopFile -Force -ErrorAction SilentlyContinue
        }

        $after | Should -BeGreaterThan $before -Because 'the writer must have been writing while the reader read'
        $read.status | Should -Be 'ok'
        $read.reads | Should -Be 20000
        $read.torn | Should -Be 0
        $read.distinct_sequences | Should -BeGreaterThan 1
        $output | Should -Match '^writes=\d+$'
    }

    It 'follows another process growing the segment from 1 KiB to 4 MiB, and never accepts a torn payload' {
        $name = New-TestSegmentName 'format'
        $script:Created.Add([pscustomobject]@{ Name = $name; Scope = 'User' })
        $path = Get-SegmentPath $name
        # Payload k: a body of k-dependent bytes followed by the SHA-256 of the body, which the reader's
        # --check digest verifies. Body sizes grow by 55% a step, more than the quarter a grow adds, so
        # every step grows the segment: 1 KiB at step 0, about 4 MiB at step 19.
        $newPayload = 'param([int] $Length, [int] $Fill) $p = [byte[]]::new($Length + 32); [Array]::Fill($p, [byte]($Fill % 251)); [Security.Cryptography.SHA256]::Create().ComputeHash($p, 0, $Length).CopyTo($p, $Length); ,$p'
        $steps = 19
        $writesPerStep = 5
        $finalVersion = 1 + $steps * $writesPerStep
        $finalLength = [int](1024 * [math]::Pow(1.55, $steps)) + 32

        # Version 1: a growable segment of 4 KiB, made by Write-SharedMemory.
        Write-SharedMemory -Name $name -Value (& ([scriptblock]::Create($newPayload)) 1024 0)
        $start = Get-SharedMemory -Name $name
        $start.IsGrowable | Should -BeTrue
        $start.Size | Should -Be 4096

        $reader = Start-Reader @($path, '--until-version', $finalVersion, '--check', 'digest', '--ready', '--timeout', '120')
        try {
            # The handshake: the reader has mapped the segment and read version 1 before the writer starts.
            $ready = $reader.StandardError.ReadLineAsync()
            if (-not $ready.Wait(60000)) { throw 'read_segment.py did not start reading within 60 seconds.' }
            $ready.Result | Should -Be 'ready'
            $stderr = $reader.StandardError.ReadToEndAsync()

            $output = Invoke-ChildPwsh -TimeoutSeconds 120 -Script @"
`$newPayload = { $newPayload }
`$writes = 0
foreach (`$step in 1..$steps) {
    `$length = [int](1024 * [math]::Pow(1.55, `$step))
    foreach (`$k in 1..$writesPerStep) {
        Write-SharedMemory -Name '$name' -Value (& `$newPayload `$length (`$step * $writesPerStep + `$k))
        `$writes++
    }
}
"writes=`$writes"
"@
            # The reader stops by itself once it has read the final version.
            if (-not $reader.WaitForExit(150000)) { throw 'read_segment.py did not see the final version within 150 seconds.' }
            $reader.WaitForExit()
            $read = $reader.StdOutTask.GetAwaiter().GetResult() | ConvertFrom-Json
            $errors = $stderr.GetAwaiter().GetResult()
        }
        finally {
            if (-not $reader.HasExited) { $reader.Kill() }
        }
        $end = Get-SharedMemory -Name $name

        $output | Should -Be "writes=$($steps * $writesPerStep)"
        $end.Version | Should -Be $finalVersion
        $errors | Should -BeNullOrEmpty
        $reader.ExitCode | Should -Be 0
        $read.status | Should -Be 'ok'
        $read.torn | Should -Be 0
        $read.first_version | Should -Be 1
        $read.last_version | Should -Be $finalVersion
        $read.distinct_sequences | Should -BeGreaterThan 1
        $read.max_length | Should -Be $finalLength
        # It followed the grows: Size rose from 4 KiB to the final size, and the reader mapped it again.
        $read.sizes_seen[0] | Should -Be 4096
        $read.sizes_seen[-1] | Should -Be $end.Size
        $end.Size | Should -BeGreaterThan (4MB - 1) -Because 'the last payload is about 4 MiB'
        $read.remaps | Should -BeGreaterOrEqual 1
        ($read.remaps - $read.remaps_on_length) | Should -BeGreaterOrEqual 1 -Because 'the reader reads Size again before it touches the payload, and maps again when Size rose'
        $read.mapped_size | Should -Be $end.Size
    }
}

Describe 'The queue format (python3 sender and receiver)' {
    BeforeAll {
        $script:QueueScript = Join-Path $PSScriptRoot 'queue_segment.py'
        $script:QueueOptions = [PSSharedMemory.Engine.SharedMemoryOptions]@{ Kind = 'Queue' }

        function Invoke-QueueScript {
            # Runs queue_segment.py; returns its JSON as an object with the exit code added.
            param([string[]] $Arguments)
            $json = & $script:PythonPath $script:QueueScript @Arguments
            $code = $LASTEXITCODE
            $json | ConvertFrom-Json | Add-Member -NotePropertyName ExitCode -NotePropertyValue $code -PassThru
        }
    }

    BeforeEach {
        if (-not $script:PythonPath) { Set-ItResult -Skipped -Because 'python3 is not on PATH (under Wine: no Windows Python in the prefix)' }
    }

    It 'receives, in order and with their types and versions, the messages the module sent, and takes them' {
        $name = New-TestSegmentName 'fmtq'
        $queue = $script:Engine::Create($name, 4096, $script:QueueOptions)
        try {
            $null = $queue.SendText('first')
            $null = $queue.Send([byte[]](0, 1, 2, 255))
            $null = $queue.SendText('<Objs/>', 'CliXml', [timespan]::Zero, [Threading.CancellationToken]::None)
            $peek = Invoke-QueueScript '--name', $name, 'peek', '--count', '1'
            $peek.messages.Count | Should -Be 1
            $queue.MessageCount | Should -Be 3 -Because 'a peek takes nothing'

            $got = Invoke-QueueScript '--name', $name, 'receive', '--count', '10'
            $got.ExitCode | Should -Be 0
            $got.messages.Count | Should -Be 3
            $got.messages.text[0] | Should -BeExactly 'first'
            $got.messages.content_type_name | Should -Be 'Text', 'Bytes', 'CliXml'
            [Convert]::FromBase64String($got.messages[1].base64) -join ',' | Should -Be '0,1,2,255'
            $got.messages.version | Should -Be 1, 2, 3
            $queue.MessageCount | Should -Be 0
            (Invoke-QueueScript '--name', $name, 'receive').messages.Count | Should -Be 0
        }
        finally { $queue.Dispose() }
    }

    It 'sends messages the module receives, and reports a full queue without sending' {
        $name = New-TestSegmentName 'fmtq'
        $queue = $script:Engine::Create($name, 64, $script:QueueOptions)
        try {
            $null = $queue.SendText('module first')
            (Invoke-QueueScript '--name', $name, 'send', '--text', 'python').version | Should -Be 2
            $full = Invoke-QueueScript '--name', $name, 'send', '--text', 'this one has no room'
            $full.status | Should -Be 'full'
            $full.ExitCode | Should -Be 7

            $messages = $queue.Receive(10, [timespan]::Zero, [Threading.CancellationToken]::None)
            @($messages | ForEach-Object { $_.GetText() }) | Should -Be 'module first', 'python'
            $messages[1].ContentType | Should -Be 'Text'
            $messages[1].Version | Should -Be 2
            $queue.GetInfo().LastWriterProcessId | Should -Not -Be $PID
        }
        finally { $queue.Dispose() }
    }

    It 'and the module pass messages of every length around a small ring, each way' {
        $name = New-TestSegmentName 'fmtq'
        $queue = $script:Engine::Create($name, 96, $script:QueueOptions)
        try {
            $random = [Random]::new(20261127)
            foreach ($round in 1..10) {
                $text = 'x' * $random.Next(0, 60) + $round
                if ($round % 2) {
                    (Invoke-QueueScript '--name', $name, 'send', '--text', $text).status | Should -Be 'sent'
                    $queue.Receive(1, [timespan]::Zero, [Threading.CancellationToken]::None)[0].GetText() | Should -BeExactly $text
                }
                else {
                    $null = $queue.SendText($text)
                    (Invoke-QueueScript '--name', $name, 'receive').messages[0].text | Should -BeExactly $text
                }
            }

            $queue.MessageCount | Should -Be 0
        }
        finally { $queue.Dispose() }
    }
}
