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
        $read.layout_version | Should -Be 1
        $read.header_size | Should -Be 128
        $read.capacity | Should -Be $info.Capacity
        $read.file_size | Should -Be ($info.Capacity + 128)
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

    It 'finds a segment by name in the store, and shows an exact capacity and an Empty payload' {
        $name = New-TestSegmentName 'format'
        $script:Created.Add([pscustomobject]@{ Name = $name; Scope = 'User' })
        $null = New-SharedMemory -Name $name -Size 1001

        $read = Invoke-Reader @('--name', $name)

        $read.status | Should -Be 'ok'
        $read.path | Should -Be (Get-SegmentPath $name)
        $read.capacity | Should -Be 1001
        $read.file_size | Should -Be 1129
        $read.content_type_name | Should -Be 'Empty'
        $read.length | Should -Be 0
        $read.sequence | Should -Be 0
        $read.last_writer_pid | Should -Be 0
        $read.last_write_time_ns | Should -Be $read.creation_time_ns
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

    It 'rejects a segment whose <Scenario>, as the module does' -TestCases @(
        @{ Scenario = 'magic is wrong'; Offset = 0; Bytes = [byte[]][char[]]'XXSHMEM' }
        @{ Scenario = 'layout version is unknown'; Offset = 8; Bytes = [byte[]](2, 0) }
        @{ Scenario = 'header size is not 128'; Offset = 10; Bytes = [byte[]](64, 0) }
        @{ Scenario = 'capacity does not match the file'; Offset = 16; Bytes = [BitConverter]::GetBytes([uint64]999) }
        @{ Scenario = 'flags have an unknown bit'; Offset = 12; Bytes = [BitConverter]::GetBytes([uint32]8) }
        @{ Scenario = 'payload length exceeds the capacity'; Offset = 32; Bytes = [BitConverter]::GetBytes([uint64]1000000) }
        @{ Scenario = 'content type is unknown'; Offset = 40; Bytes = [BitConverter]::GetBytes([uint32]9) }
    ) {
        param($Scenario, $Offset, $Bytes)
        $name = New-TestSegmentName 'format'
        $script:Created.Add([pscustomobject]@{ Name = $name; Scope = 'User' })
        Write-SharedMemory -Name $name -Value 'valid until now'
        $path = Get-SegmentPath $name
        Set-HeaderBytes $path $Offset $Bytes

        $read = Invoke-Reader $path
        $read.status | Should -Be 'corrupted'
        $read.ExitCode | Should -Be 4
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
}
