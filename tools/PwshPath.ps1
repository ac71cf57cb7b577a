# Dot-sourced by build.ps1, the benchmarks and the tests: the PowerShell executable to start child
# processes with, the same one that runs the caller.
function Get-PwshPath {
    if ($PSVersionTable.PSEdition -eq 'Desktop') {
        return (Join-Path $PSHOME 'powershell.exe')
    }
    # Installed pwsh, or the .NET tool (dotnet pwsh), whose executable sits in $PSHOME/unix on Linux and macOS.
    $name = if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' }
    foreach ($candidate in @((Join-Path $PSHOME $name), (Join-Path $PSHOME "unix/$name"))) {
        if (Test-Path -LiteralPath $candidate) { return $candidate }
    }
    return (Get-Command pwsh -CommandType Application -ErrorAction Stop | Select-Object -First 1).Source
}
