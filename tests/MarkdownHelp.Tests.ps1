# The markdown help converter (tools/MarkdownHelp.psm1), which build.ps1 uses when platyPS is not
# installed: it turns markup into plain help text, and a page it cannot read fails the build with the
# file and line instead of losing a section.

BeforeAll {
    . $PSScriptRoot/common.ps1
    Import-Module (Join-Path $PSScriptRoot '../tools/MarkdownHelp.psm1') -Force

    # A minimal valid cmdlet page; each test changes one line of it and names that line's number.
    $script:ValidPage = @'
---
external help file: Test-Help.dll-Help.xml
Module Name: TestHelp
online version:
schema: 2.0.0
---

# Get-Thing

## SYNOPSIS
Gets a thing.

## SYNTAX

### __AllParameterSets
```
Get-Thing [-Name] <String> [<CommonParameters>]
```

## DESCRIPTION
Gets the **thing** named by `-Name`, as [about_Things](about_Things.md) and &lt;1&gt; *explain*.

## EXAMPLES

### Example 1: Get one thing

```powershell
Get-Thing -Name a
```

Gets the thing a.

## PARAMETERS

### -Name
The name of the thing.

```yaml
Type: String
Parameter Sets: (All)
Aliases:

Required: True
Position: 0
Default value: None
Accept pipeline input: False
Accept wildcard characters: False
```

### CommonParameters
This cmdlet supports the common parameters.

## INPUTS

### None

Nothing.

## OUTPUTS

### System.Object

A thing.

## RELATED LINKS

[about_Things](about_Things.md)
'@ -replace '\r\n', "`n"

    function ConvertTo-TestHelp([string] $Page) {
        # Converts $Page as Get-Thing.md in a folder of its own; returns the MAML file's path.
        $docs = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory -Path $docs
        $path = Join-Path $docs 'Get-Thing.md'
        [System.IO.File]::WriteAllText($path, $Page)
        $null = ConvertTo-ModuleHelp -DocsPath $docs -OutputPath (Join-Path $docs 'out')
        Join-Path $docs 'out/Test-Help.dll-Help.xml'
    }
}

Describe 'ConvertTo-ModuleHelp' {
    BeforeEach {
        # The converter restores Markdig with the dotnet CLI; it runs on the build machine, and the
        # Windows host under Wine (build.ps1 -Task TestWindows) has no dotnet.
        if (-not (Get-Command dotnet -ErrorAction SilentlyContinue)) { Set-ItResult -Skipped -Because 'the dotnet CLI is not on PATH (under Wine: the help is built on the Linux side)' }
    }

    It 'turns markup into the plain text that Get-Help shows' {
        [xml] $maml = Get-Content -LiteralPath (ConvertTo-TestHelp $ValidPage) -Raw
        $description = $maml.helpItems.command.description.para
        $description | Should -BeExactly 'Gets the thing named by -Name, as about_Things and <1> explain.'
        $maml.helpItems.command.relatedLinks.navigationLink.linkText | Should -BeExactly 'about_Things'
    }

    It 'names the file and line of <Scenario>' -TestCases @(
        @{ Scenario = 'a code block that is never closed'; Find = "`n[about_Things](about_Things.md)"; Replace = "`n[about_Things](about_Things.md)`n`n``````powershell`nGet-Thing"; Line = 69; Message = 'the code block opened here with ``` is never closed' }
        @{ Scenario = 'front matter that is never closed'; Find = "schema: 2.0.0`n---"; Replace = 'schema: 2.0.0'; Line = 1; Message = 'the front matter is not closed with ---' }
        @{ Scenario = 'HTML in a paragraph'; Find = 'Gets the thing a.'; Replace = 'Gets the <b>thing</b> a.'; Line = 31; Message = "HTML is not supported in help markdown: '<b>'" }
        @{ Scenario = 'an indented code block'; Find = 'Gets the thing a.'; Replace = '    Get-Thing a'; Line = 31; Message = 'an indented code block' }
        @{ Scenario = 'an unknown parameter key'; Find = 'Position: 0'; Replace = 'Place: 0'; Line = 44; Message = "unknown parameter metadata key 'Place'" }
        @{ Scenario = 'an unknown section'; Find = '## RELATED LINKS'; Replace = '## SEE ALSO'; Line = 65; Message = "unknown section '## SEE ALSO'" }
        @{ Scenario = 'a related link that is not a link'; Find = "`n[about_Things](about_Things.md)"; Replace = "`nabout_Things"; Line = 67; Message = "related link 'about_Things' is not [text](link)" }
    ) {
        $ValidPage.Contains($Find) | Should -BeTrue -Because 'the test must change the page'
        $page = $ValidPage.Replace($Find, $Replace)
        $err = { ConvertTo-TestHelp $page } | Should -Throw -PassThru
        $err.Exception | Should -BeOfType System.IO.InvalidDataException
        $err.Exception.Message | Should -BeLike ('*{0}Get-Thing.md:{1}: {2}*' -f [System.IO.Path]::DirectorySeparatorChar, $Line, [WildcardPattern]::Escape($Message))
    }
}
