#Requires -Version 5.1
<#
.SYNOPSIS
    Builds the module's help from docs/en-US: PSSharedMemory.dll-Help.xml (MAML) and about_*.help.txt.

.DESCRIPTION
    Uses platyPS's New-ExternalHelp when platyPS is installed. Otherwise it uses the converter in
    tools/MarkdownHelp.psm1, which parses the markdown with Markdig (restored from NuGet through
    tools/MarkdigTool/MarkdigTool.csproj, so `dotnet` must be on the PATH), reads the subset of the
    platyPS schema that docs/en-US uses, and throws with the file and line on anything it does not
    understand. The generated files go to -OutputPath only; they are never committed.

    One difference: platyPS puts every code block of an example (output included) into the example's
    code, while the converter puts ```output blocks into the example's remarks.

.PARAMETER DocsPath
    The folder with the markdown pages, normally docs/en-US.

.PARAMETER OutputPath
    The en-US folder of the staged module; created when missing.

.PARAMETER NoPlatyPS
    Use the converter even when platyPS is installed.

.EXAMPLE
    ./tools/Build-Help.ps1 -DocsPath ./docs/en-US -OutputPath ./output/PSSharedMemory/0.1.0/en-US
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $DocsPath,
    [Parameter(Mandatory)] [string] $OutputPath,
    [switch] $NoPlatyPS
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

if (-not (Test-Path -LiteralPath $DocsPath -PathType Container)) {
    throw "The help folder '$DocsPath' does not exist."
}
if (-not (Test-Path -LiteralPath $OutputPath)) {
    $null = New-Item -ItemType Directory -Path $OutputPath -Force
}

$platyPS = $null
if (-not $NoPlatyPS) {
    $platyPS = Get-Module -ListAvailable -Name platyPS | Sort-Object Version -Descending | Select-Object -First 1
}

if ($platyPS) {
    Import-Module $platyPS -Force
    $files = New-ExternalHelp -Path $DocsPath -OutputPath $OutputPath -Force
    Write-Verbose "platyPS $($platyPS.Version) wrote: $(@($files | ForEach-Object FullName) -join ', ')"
}
else {
    Import-Module (Join-Path $PSScriptRoot 'MarkdownHelp.psm1') -Force
    $files = ConvertTo-ModuleHelp -DocsPath $DocsPath -OutputPath $OutputPath
    Write-Verbose "Wrote: $($files -join ', ')"
}
