<#
.SYNOPSIS
    Starts a private redis-server on 127.0.0.1 for tests and benchmarks, and returns how to reach and stop it.

.DESCRIPTION
    The server listens on 127.0.0.1 only, on a free port (or -Port), keeps no data on disk (--save '' and
    --appendonly no) and works in a temporary directory of its own. The object returned has Port, Uri
    (redis://127.0.0.1:PORT/0, with the password when one was given), Process and Directory, and a Stop()
    method that ends the server and removes the directory. Throws when redis-server is not installed (on
    Debian: apt-get install redis-server) or does not answer within 10 seconds.

.PARAMETER Port
    The port to listen on; a free one by default. Give the port of a stopped server to start it again there.

.PARAMETER Password
    A password the server requires (requirepass) of the default user.

.EXAMPLE
    $server = & ./tools/Start-RedisServer.ps1
    $env:PSSHAREDMEMORY_STORE = $server.Uri
    ...
    $server.Stop()
#>
[CmdletBinding()]
param(
    [int] $Port,
    [string] $Password
)

$ErrorActionPreference = 'Stop'
$server = Get-Command -Name redis-server -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
if (-not $server) {
    throw 'redis-server is not installed. On Debian or Ubuntu: apt-get install redis-server.'
}

if (-not $Port) {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    $Port = ([System.Net.IPEndPoint]$listener.LocalEndpoint).Port
    $listener.Stop()
}

$directory = Join-Path ([System.IO.Path]::GetTempPath()) "pssm-redis-$Port-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
$null = New-Item -ItemType Directory -Path $directory
$arguments = @('--bind', '127.0.0.1', '--port', "$Port", '--save', '""', '--appendonly', 'no', '--dir', $directory,
    '--daemonize', 'no', '--protected-mode', 'yes', '--logfile', (Join-Path $directory 'redis.log'))
if ($Password) { $arguments += @('--requirepass', $Password) }
$process = Start-Process -FilePath $server.Source -ArgumentList $arguments -PassThru

# Ready when it accepts a connection and answers PING (with or without a password, it answers).
$deadline = [DateTime]::UtcNow.AddSeconds(10)
$ready = $false
while (-not $ready -and [DateTime]::UtcNow -lt $deadline -and -not $process.HasExited) {
    $client = [System.Net.Sockets.TcpClient]::new()
    try {
        $client.Connect('127.0.0.1', $Port)
        $stream = $client.GetStream()
        $ping = [Text.Encoding]::ASCII.GetBytes("PING`r`n")
        $stream.Write($ping, 0, $ping.Length)
        $buffer = [byte[]]::new(64)
        $stream.ReadTimeout = 1000
        $ready = $stream.Read($buffer, 0, $buffer.Length) -gt 0
    }
    catch {
        Start-Sleep -Milliseconds 50
    }
    finally {
        $client.Dispose()
    }
}

if (-not $ready) {
    if (-not $process.HasExited) { $process.Kill() }
    $log = Get-Content -LiteralPath (Join-Path $directory 'redis.log') -Raw -ErrorAction SilentlyContinue
    Remove-Item -LiteralPath $directory -Recurse -Force -ErrorAction SilentlyContinue
    throw "redis-server did not answer on 127.0.0.1:$Port within 10 seconds. Its log: $log"
}

$auth = if ($Password) { ":$([uri]::EscapeDataString($Password))@" } else { '' }
$result = [pscustomobject]@{
    Port      = $Port
    Uri       = "redis://${auth}127.0.0.1:$Port/0"
    Process   = $process
    Directory = $directory
}
$result | Add-Member -MemberType ScriptMethod -Name Stop -Value {
    if (-not $this.Process.HasExited) {
        $this.Process.Kill()
        $null = $this.Process.WaitForExit(10000)
    }
    Remove-Item -LiteralPath $this.Directory -Recurse -Force -ErrorAction SilentlyContinue
}
$result
