# Converts the platyPS markdown in docs/en-US into MAML and about_*.help.txt, for machines without
# platyPS. Markdig parses the markdown; this module walks its syntax tree. It covers the subset of the
# platyPS schema that this project uses and throws, with the file and line, on anything else, so that
# a page never silently loses a section.
# Runs on Windows PowerShell 5.1 and PowerShell 7: no ?? ?. or ternaries here.

Set-StrictMode -Version 3.0

$script:CommandSections = @('SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'RELATED LINKS')
$script:RequiredSections = @('SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS')
$script:ParameterKeys = @('Type', 'Parameter Sets', 'Aliases', 'Accepted values', 'Required', 'Position',
    'Default value', 'Accept pipeline input', 'Accept wildcard characters')
$script:CodeLanguages = @('powershell', 'pwsh', 'ps1', 'posh')
$script:Namespaces = [ordered]@{
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
    MSHelp  = 'http://msdn.microsoft.com/mshelp'
}
# Front matter and the parameter yaml blocks are flat 'key: value' lines, not markdown.
$script:KeyValuePattern = '^([A-Za-z][A-Za-z ]*):\s*(.*)$'
$script:MarkdownPipeline = $null
$script:MarkdownParser = $null

function New-ParseError {
    param([string] $File, [int] $Line, [string] $Message)
    $where = if ($Line -gt 0) { '{0}:{1}' -f $File, $Line } else { $File }
    [System.IO.InvalidDataException]::new("${where}: $Message")
}

function Get-MarkdownPipeline {
    <#
        Loads Markdig and builds the parser: CommonMark with yaml front matter and pipe tables.
        tools/MarkdigTool/MarkdigTool.csproj names the packages; `dotnet restore` puts them in the
        NuGet package cache, from which they are loaded. Markdig's netstandard2.0 build loads in
        PowerShell 7 and in Windows PowerShell 5.1, which also needs System.Memory and its
        dependencies. The types are used by name so that another Markdig in the session (pwsh's
        own Markdig.Signed) cannot be picked up by mistake.
    #>
    if ($script:MarkdownPipeline) { return $script:MarkdownPipeline }

    $project = Join-Path $PSScriptRoot 'MarkdigTool/MarkdigTool.csproj'
    # Standard error is left alone: Windows PowerShell turns redirected native stderr into errors.
    $output = & dotnet restore $project --nologo -v quiet
    if ($LASTEXITCODE -ne 0) { throw "dotnet restore '$project' failed with exit code ${LASTEXITCODE}: $($output -join [Environment]::NewLine)" }
    $packages = $env:NUGET_PACKAGES
    if (-not $packages) {
        $line = @(& dotnet nuget locals global-packages --list) -match 'global-packages:' | Select-Object -First 1
        $packages = ($line -replace '^.*global-packages:\s*', '').Trim()
    }

    $versions = [ordered]@{}
    foreach ($item in ([xml](Get-Content -LiteralPath $project -Raw)).SelectNodes('//PackageDownload')) {
        $versions[$item.Include] = $item.Version.Trim('[', ']')
    }
    $load = [System.Collections.Generic.List[string]]::new()
    if ($PSVersionTable.PSEdition -eq 'Desktop') {
        foreach ($name in 'System.Runtime.CompilerServices.Unsafe', 'System.Buffers', 'System.Numerics.Vectors', 'System.Memory') {
            $load.Add((Join-Path $packages ('{0}/{1}/lib/net462/{2}.dll' -f $name.ToLowerInvariant(), $versions[$name], $name)))
        }
    }
    $load.Add((Join-Path $packages ('markdig/{0}/lib/netstandard2.0/Markdig.dll' -f $versions['Markdig'])))
    $markdig = $null
    foreach ($dll in $load) {
        if (-not (Test-Path -LiteralPath $dll)) { throw "'$dll' is missing after restoring '$project'." }
        $markdig = [System.Reflection.Assembly]::LoadFrom($dll)
    }

    $extensions = $markdig.GetType('Markdig.MarkdownExtensions', $true)
    $builder = [System.Activator]::CreateInstance($markdig.GetType('Markdig.MarkdownPipelineBuilder', $true))
    $builder = $extensions::UseYamlFrontMatter($builder)
    $builder = $extensions::UsePipeTables($builder, $null)
    $script:MarkdownParser = $markdig.GetType('Markdig.Markdown', $true)
    $script:MarkdownPipeline = $builder.Build()
    $script:MarkdownPipeline
}

function Test-Node {
    # Whether a Markdig node is of the named type (Markdig.Syntax. is implied), or derives from it.
    param($Node, [string] $TypeName)
    if ($TypeName -notlike '*.*.*') { $TypeName = "Markdig.Syntax.$TypeName" }
    for ($type = $Node.GetType(); $type; $type = $type.BaseType) {
        if ($type.FullName -eq $TypeName) { return $true }
    }
    $false
}

function Add-InlineText {
    # Appends the plain text that Get-Help shows for an inline and its children.
    param([System.Text.StringBuilder] $Builder, $Inline, [string] $Path)
    switch ($Inline.GetType().FullName) {
        'Markdig.Syntax.Inlines.LiteralInline' { [void]$Builder.Append($Inline.Content.ToString()); return }
        'Markdig.Syntax.Inlines.CodeInline' { [void]$Builder.Append($Inline.Content); return }
        'Markdig.Syntax.Inlines.LineBreakInline' { [void]$Builder.Append(' '); return }
        'Markdig.Syntax.Inlines.HtmlEntityInline' { [void]$Builder.Append($Inline.Transcoded.ToString()); return }
        'Markdig.Syntax.Inlines.AutolinkInline' { [void]$Builder.Append($Inline.Url); return }
        'Markdig.Syntax.Inlines.HtmlInline' {
            throw (New-ParseError $Path ($Inline.Line + 1) "HTML is not supported in help markdown: '$($Inline.Tag)'; put it in backticks or write \< for <")
        }
    }
    if (-not (Test-Node $Inline 'Markdig.Syntax.Inlines.ContainerInline')) {
        throw (New-ParseError $Path ($Inline.Line + 1) "unsupported markdown: $($Inline.GetType().Name)")
    }
    # Emphasis and links show their text; an unmatched delimiter shows itself.
    if (Test-Node $Inline 'Markdig.Syntax.Inlines.DelimiterInline') { [void]$Builder.Append($Inline.ToLiteral()) }
    for ($child = $Inline.FirstChild; $child; $child = $child.NextSibling) { Add-InlineText $Builder $child $Path }
}

function ConvertTo-InlineText {
    # The inlines of a paragraph or heading as one line of plain text; line breaks become spaces.
    param($Container, [string] $Path)
    $builder = [System.Text.StringBuilder]::new()
    if ($Container) {
        for ($inline = $Container.FirstChild; $inline; $inline = $inline.NextSibling) { Add-InlineText $builder $inline $Path }
    }
    $builder.ToString()
}

function Get-ListItems {
    <#
        A list as flat items, nested lists after their parent item: Depth, Marker ('-', '*', '+' or
        '1.'), Text, and BlankBefore when a blank line separates the item from the one before it.
    #>
    param($List, [string] $Path, [int] $Depth = 0, [System.Collections.Generic.List[object]] $Items = $null)
    if ($null -eq $Items) { $Items = [System.Collections.Generic.List[object]]::new() }
    $first = $true
    foreach ($item in $List) {
        $marker = if ($List.IsOrdered) { '{0}{1}' -f $item.Order, $List.OrderedDelimiter } else { [string]$List.BulletType }
        $entry = [pscustomobject]@{ Depth = $Depth; Marker = $marker; Text = ''; BlankBefore = ($List.IsLoose -and -not $first) }
        $Items.Add($entry)
        $first = $false
        $index = 0
        foreach ($child in $item) {
            if ($index -eq 0 -and (Test-Node $child 'ParagraphBlock')) { $entry.Text = ConvertTo-InlineText $child.Inline $Path }
            elseif (Test-Node $child 'ListBlock') { $null = Get-ListItems $child $Path ($Depth + 1) $Items }
            else { throw (New-ParseError $Path ($child.Line + 1) 'a list item holds one paragraph and, after it, nested lists; nothing else') }
            $index++
        }
    }
    , $Items
}

function Get-TableRows {
    # A pipe table as rows of plain-text cells, the header row first.
    param($Table, [string] $Path)
    $rows = [System.Collections.Generic.List[object]]::new()
    foreach ($row in $Table) {
        $cells = [System.Collections.Generic.List[string]]::new()
        foreach ($cell in $row) {
            $text = @(foreach ($block in $cell) {
                    if (-not (Test-Node $block 'ParagraphBlock')) { throw (New-ParseError $Path ($block.Line + 1) 'a table cell holds only text') }
                    ConvertTo-InlineText $block.Inline $Path
                })
            $cells.Add(($text -join ' '))
        }
        $rows.Add($cells.ToArray())
    }
    , $rows
}

function Get-BlockText {
    <#
        The text of a paragraph, list or table as the <maml:para> elements it becomes. Prose is one
        line. A list keeps one line per item, indented by depth, and a loose list gives one para per
        item. A table gives one line per row, with the cells joined by ' | '.
    #>
    param($Node, [string] $Path)
    if (Test-Node $Node 'ParagraphBlock') { return , @(ConvertTo-InlineText $Node.Inline $Path) }
    if (Test-Node $Node 'ListBlock') {
        $paras = [System.Collections.Generic.List[string]]::new()
        $lines = [System.Collections.Generic.List[string]]::new()
        foreach ($item in (Get-ListItems $Node $Path)) {
            if ($item.BlankBefore -and $lines.Count -gt 0) { $paras.Add(($lines -join "`n")); $lines.Clear() }
            $lines.Add(('{0}{1} {2}' -f (' ' * (2 * $item.Depth)), $item.Marker, $item.Text).TrimEnd())
        }
        if ($lines.Count -gt 0) { $paras.Add(($lines -join "`n")) }
        return , $paras.ToArray()
    }
    $rows = @(foreach ($cells in (Get-TableRows $Node $Path)) { $cells -join ' | ' })
    , @($rows -join "`n")
}

function Read-MarkdownBlocks {
    <#
        Parses a markdown file with Markdig into its front matter (an ordered dictionary, or $null)
        and its top-level blocks: headings, fenced code blocks, and paragraphs (prose, a list or a
        table), each with its line number. Any other markdown is an error.
    #>
    param([string] $Path)

    $pipeline = Get-MarkdownPipeline
    $source = [System.IO.File]::ReadAllText($Path)
    $document = $script:MarkdownParser::Parse($source, $pipeline)
    $blocks = [System.Collections.Generic.List[object]]::new()
    $frontMatter = $null
    foreach ($node in $document) {
        $lineNumber = $node.Line + 1
        $block = [pscustomobject]@{ Kind = 'Paragraph'; Form = ''; Line = $lineNumber; Level = 0; Text = ''; Paras = @(); Language = ''; Node = $node }
        # Inside a switch, continue would only leave the switch: skipped nodes set $block to $null.
        switch ($node.GetType().FullName) {
            'Markdig.Extensions.Yaml.YamlFrontMatterBlock' {
                $frontMatter = [ordered]@{}
                $lines = $node.Lines
                for ($i = 0; $i -lt $lines.Count; $i++) {
                    $text = $lines.Lines[$i].Slice.ToString()
                    if ($text -notmatch $script:KeyValuePattern) {
                        throw (New-ParseError $Path ($lineNumber + 1 + $i) "front matter line '$text' is not 'key: value'")
                    }
                    $frontMatter[$Matches[1]] = $Matches[2].Trim()
                }
                $block = $null
            }
            'Markdig.Syntax.HeadingBlock' {
                if ($node.IsSetext) { throw (New-ParseError $Path $lineNumber "an underlined heading; write it as '#' to '######' and the title") }
                $block.Kind = 'Heading'
                $block.Level = $node.Level
                $block.Text = (ConvertTo-InlineText $node.Inline $Path).Trim()
            }
            'Markdig.Syntax.FencedCodeBlock' {
                $fence = ([string]$node.FencedChar) * $node.OpeningFencedCharCount
                if ($node.ClosingFencedCharCount -eq 0) { throw (New-ParseError $Path $lineNumber "the code block opened here with $fence is never closed") }
                if ($node.Arguments) { throw (New-ParseError $Path $lineNumber "the code block's info '$($node.Info) $($node.Arguments)' must be one language name") }
                $lines = $node.Lines
                $block.Kind = 'Code'
                $block.Language = if ($node.Info) { $node.Info.ToLowerInvariant() } else { '' }
                $block.Text = (@(for ($i = 0; $i -lt $lines.Count; $i++) { $lines.Lines[$i].Slice.ToString() }) -join "`n")
            }
            'Markdig.Syntax.ParagraphBlock' { $block.Form = 'Prose' }
            'Markdig.Syntax.ListBlock' { $block.Form = 'List' }
            'Markdig.Extensions.Tables.Table' { $block.Form = 'Table' }
            'Markdig.Syntax.LinkReferenceDefinitionGroup' { $block = $null }
            'Markdig.Syntax.HtmlBlock' { throw (New-ParseError $Path $lineNumber 'HTML is not supported in help markdown') }
            'Markdig.Syntax.ThematicBreakBlock' {
                if ($node.Line -eq 0) { throw (New-ParseError $Path 1 'the front matter is not closed with ---') }
                throw (New-ParseError $Path $lineNumber 'a horizontal rule (---, ***) is not supported in help markdown')
            }
            'Markdig.Syntax.CodeBlock' { throw (New-ParseError $Path $lineNumber 'an indented code block; use a fenced code block (```powershell ... ```)') }
            default { throw (New-ParseError $Path $lineNumber "unsupported markdown: $($node.GetType().Name)") }
        }
        if ($null -eq $block) { continue }
        if ($block.Kind -eq 'Paragraph') {
            $block.Paras = Get-BlockText $node $Path
            $block.Text = $block.Paras -join "`n"
        }
        $blocks.Add($block)
    }

    [pscustomobject]@{ Path = $Path; FrontMatter = $frontMatter; Blocks = $blocks }
}

function Get-ParagraphText {
    # The <maml:para> texts of a block: the code of a code block, the text of anything else.
    param($Block)
    if ($Block.Kind -eq 'Code') { return $Block.Text }
    $Block.Paras
}

function Split-Sections {
    # Groups blocks under the headings of one level; blocks before the first heading are returned as ''.
    param($Blocks, [int] $Level)
    $sections = [System.Collections.Generic.List[object]]::new()
    $current = [pscustomobject]@{ Title = ''; Line = 0; Blocks = [System.Collections.Generic.List[object]]::new() }
    foreach ($block in $Blocks) {
        if ($block.Kind -eq 'Heading' -and $block.Level -le $Level) {
            $sections.Add($current)
            $current = [pscustomobject]@{ Title = $block.Text; Line = $block.Line; Blocks = [System.Collections.Generic.List[object]]::new() }
        }
        else {
            $current.Blocks.Add($block)
        }
    }
    $sections.Add($current)
    , $sections
}

function Assert-NoSubHeadings {
    param($Section, [string] $Path)
    foreach ($block in $Section.Blocks) {
        if ($block.Kind -eq 'Heading') {
            throw (New-ParseError $Path $block.Line "unexpected heading '$($block.Text)' in section $($Section.Title)")
        }
    }
}

function Read-ParameterYaml {
    param($Block, [string] $Path)
    $values = [ordered]@{}
    $lineNumber = $Block.Line
    foreach ($line in ($Block.Text -split "`n")) {
        $lineNumber++
        if ($line.Trim() -eq '') { continue }
        if ($line -notmatch $script:KeyValuePattern) {
            throw (New-ParseError $Path $lineNumber "parameter metadata line '$line' is not 'key: value'")
        }
        $key = $Matches[1]
        if ($script:ParameterKeys -notcontains $key) {
            throw (New-ParseError $Path $lineNumber "unknown parameter metadata key '$key'; known keys: $($script:ParameterKeys -join ', ')")
        }
        $values[$key] = $Matches[2].Trim()
    }
    foreach ($key in 'Type', 'Parameter Sets', 'Required', 'Position', 'Accept pipeline input', 'Accept wildcard characters') {
        if (-not $values.Contains($key) -or $values[$key] -eq '') {
            throw (New-ParseError $Path $Block.Line "the parameter metadata has no '$key'")
        }
    }
    foreach ($key in 'Required', 'Accept wildcard characters') {
        if ($values[$key] -notin 'True', 'False') {
            throw (New-ParseError $Path $Block.Line "'$key' must be True or False, not '$($values[$key])'")
        }
    }
    if ($values['Position'] -notmatch '^(Named|\d+)$') {
        throw (New-ParseError $Path $Block.Line "'Position' must be Named or a number, not '$($values['Position'])'")
    }
    if ($values['Accept pipeline input'] -notmatch '^(False|True \((ByValue|ByPropertyName|ByValue, ByPropertyName|ByPropertyName, ByValue)\))$') {
        throw (New-ParseError $Path $Block.Line "'Accept pipeline input' must be False or True (ByValue, ByPropertyName), not '$($values['Accept pipeline input'])'")
    }
    $sets = @($values['Parameter Sets'] -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ })
    [pscustomobject]@{
        Type          = $values['Type']
        Sets          = $sets
        Aliases       = if ($values.Contains('Aliases')) { $values['Aliases'] } else { '' }
        Required      = $values['Required'] -eq 'True'
        Position      = $values['Position']
        DefaultValue  = if ($values.Contains('Default value') -and $values['Default value']) { $values['Default value'] } else { 'None' }
        PipelineInput = $values['Accept pipeline input']
        Globbing      = $values['Accept wildcard characters'] -eq 'True'
        AcceptedValues = if ($values.Contains('Accepted values') -and $values['Accepted values']) { @($values['Accepted values'] -split ',' | ForEach-Object { $_.Trim() }) } else { @() }
    }
}

function Get-RelatedLinks {
    <#
        The links of a RELATED LINKS block: a paragraph with one [text](link) per line, or a list
        with one per item. Only http(s) links keep their address; the others are page names.
    #>
    param($Block, [string] $Path)
    $message = 'RELATED LINKS holds only [text](link) lines'
    $lines = [System.Collections.Generic.List[object]]::new()
    if ($Block.Form -eq 'Prose') {
        $line = [System.Collections.Generic.List[object]]::new()
        for ($inline = $Block.Node.Inline.FirstChild; $inline; $inline = $inline.NextSibling) {
            if (Test-Node $inline 'Markdig.Syntax.Inlines.LineBreakInline') { $lines.Add($line.ToArray()); $line.Clear() }
            else { $line.Add($inline) }
        }
        $lines.Add($line.ToArray())
    }
    elseif ($Block.Form -eq 'List') {
        foreach ($item in $Block.Node) {
            $paragraph = @($item)
            if ($paragraph.Count -ne 1 -or -not (Test-Node $paragraph[0] 'ParagraphBlock')) { throw (New-ParseError $Path ($item.Line + 1) $message) }
            $lines.Add(@(for ($inline = $paragraph[0].Inline.FirstChild; $inline; $inline = $inline.NextSibling) { $inline }))
        }
    }
    else {
        throw (New-ParseError $Path $Block.Line $message)
    }
    foreach ($line in $lines) {
        $link = $line[0]
        if ($line.Count -ne 1 -or -not (Test-Node $link 'Markdig.Syntax.Inlines.LinkInline') -or $link.IsImage) {
            $text = (@(foreach ($inline in $line) { $builder = [System.Text.StringBuilder]::new(); Add-InlineText $builder $inline $Path; $builder.ToString() }) -join '').Trim()
            $where = if ($line.Count -gt 0) { $line[0].Line + 1 } else { $Block.Line }
            throw (New-ParseError $Path $where "related link '$text' is not [text](link)")
        }
        $uri = if ($link.Url -match '^https?://') { $link.Url } else { '' }
        [pscustomobject]@{ Text = (ConvertTo-InlineText $link $Path); Uri = $uri }
    }
}

function Read-CommandPage {
    # Reads one cmdlet page into an object that Write-CommandMaml understands.
    param($Document)

    $path = $Document.Path
    $blocks = $Document.Blocks
    if ($blocks.Count -eq 0 -or $blocks[0].Kind -ne 'Heading' -or $blocks[0].Level -ne 1) {
        throw (New-ParseError $path 1 'a cmdlet page must start (after the front matter) with "# <Verb-Noun>"')
    }
    $name = $blocks[0].Text.Trim()
    if ($name -notmatch '^[A-Za-z]+-[A-Za-z0-9]+$') { throw (New-ParseError $path $blocks[0].Line "'$name' is not a Verb-Noun cmdlet name") }

    $rest = [System.Collections.Generic.List[object]]::new()
    for ($i = 1; $i -lt $blocks.Count; $i++) {
        if ($blocks[$i].Kind -eq 'Heading' -and $blocks[$i].Level -eq 1) { throw (New-ParseError $path $blocks[$i].Line 'only one "#" heading is allowed') }
        $rest.Add($blocks[$i])
    }
    $sections = Split-Sections $rest 2
    if ($sections[0].Blocks.Count -gt 0) { throw (New-ParseError $path $sections[0].Blocks[0].Line 'text before the first "##" section') }

    $page = [ordered]@{}
    $lastIndex = -1
    for ($s = 1; $s -lt $sections.Count; $s++) {
        $section = $sections[$s]
        $title = $section.Title.Trim()
        $index = [array]::IndexOf($script:CommandSections, $title)
        if ($index -lt 0) { throw (New-ParseError $path $section.Line "unknown section '## $title'; expected one of: $($script:CommandSections -join ', ')") }
        if ($index -le $lastIndex) { throw (New-ParseError $path $section.Line "section '## $title' is out of order or repeated; the order is: $($script:CommandSections -join ', ')") }
        $lastIndex = $index
        $page[$title] = $section
    }
    foreach ($required in $script:RequiredSections) {
        if (-not $page.Contains($required)) { throw (New-ParseError $path 0 "the page has no '## $required' section") }
    }

    # SYNOPSIS and DESCRIPTION: text only.
    foreach ($title in 'SYNOPSIS', 'DESCRIPTION') {
        Assert-NoSubHeadings $page[$title] $path
        if ($page[$title].Blocks.Count -eq 0) { throw (New-ParseError $path $page[$title].Line "section $title is empty") }
    }
    $synopsis = (($page['SYNOPSIS'].Blocks | ForEach-Object { Get-ParagraphText $_ }) -join ' ')
    $description = @($page['DESCRIPTION'].Blocks | ForEach-Object { Get-ParagraphText $_ })

    # PARAMETERS: "### -Name", text, then one or more yaml blocks; "### CommonParameters" last.
    $parameters = [System.Collections.Generic.List[object]]::new()
    $hasCommon = $false
    $parameterSections = Split-Sections $page['PARAMETERS'].Blocks 3
    if ($parameterSections[0].Blocks.Count -gt 0) { throw (New-ParseError $path $parameterSections[0].Blocks[0].Line 'text in PARAMETERS before the first "### -Name"') }
    for ($s = 1; $s -lt $parameterSections.Count; $s++) {
        $section = $parameterSections[$s]
        if ($section.Title -eq 'CommonParameters') { $hasCommon = $true; continue }
        if ($section.Title -notmatch '^-([A-Za-z][A-Za-z0-9_]*)$') { throw (New-ParseError $path $section.Line "parameter heading '### $($section.Title)' is not '### -Name' or '### CommonParameters'") }
        $parameterName = $Matches[1]
        if ($hasCommon) { throw (New-ParseError $path $section.Line '### CommonParameters must come after every parameter') }
        $text = [System.Collections.Generic.List[string]]::new()
        $variants = [System.Collections.Generic.List[object]]::new()
        foreach ($block in $section.Blocks) {
            if ($block.Kind -eq 'Heading') { throw (New-ParseError $path $block.Line "unexpected heading '$($block.Text)' in parameter -$parameterName") }
            if ($block.Kind -eq 'Code' -and $block.Language -eq 'yaml') { $variants.Add((Read-ParameterYaml $block $path)) }
            elseif ($variants.Count -gt 0) { throw (New-ParseError $path $block.Line "text after the yaml block of parameter -$parameterName") }
            else { foreach ($para in (Get-ParagraphText $block)) { $text.Add($para) } }
        }
        if ($variants.Count -eq 0) { throw (New-ParseError $path $section.Line "parameter -$parameterName has no yaml block") }
        if ($text.Count -eq 0) { throw (New-ParseError $path $section.Line "parameter -$parameterName has no description") }
        foreach ($other in $parameters) {
            if ($other.Name -eq $parameterName) { throw (New-ParseError $path $section.Line "parameter -$parameterName is described twice") }
        }
        $parameters.Add([pscustomobject]@{ Name = $parameterName; Description = $text.ToArray(); Variants = $variants.ToArray(); Line = $section.Line })
    }
    if (-not $hasCommon) { throw (New-ParseError $path $page['PARAMETERS'].Line 'PARAMETERS has no "### CommonParameters"') }

    # SYNTAX: "### SetName" (optionally "(Default)") and the syntax line in a code block.
    $syntax = [System.Collections.Generic.List[object]]::new()
    $syntaxSections = Split-Sections $page['SYNTAX'].Blocks 3
    if ($syntaxSections[0].Blocks.Count -gt 0) { throw (New-ParseError $path $syntaxSections[0].Blocks[0].Line 'text in SYNTAX before the first "### <parameter set>"') }
    for ($s = 1; $s -lt $syntaxSections.Count; $s++) {
        $section = $syntaxSections[$s]
        $setName = ($section.Title -replace '\s*\(Default\)\s*$', '').Trim()
        $code = @($section.Blocks | Where-Object { $_.Kind -eq 'Code' })
        if ($code.Count -ne 1 -or $section.Blocks.Count -ne 1) { throw (New-ParseError $path $section.Line "syntax '### $($section.Title)' must hold exactly one code block") }
        $syntaxText = $code[0].Text.Trim()
        if (-not $syntaxText.StartsWith($name + ' ') -and $syntaxText -ne $name) { throw (New-ParseError $path $code[0].Line "the syntax of set '$setName' does not start with '$name'") }
        $order = @([regex]::Matches($syntaxText, '(?<=[\s\[])-([A-Za-z][A-Za-z0-9_]*)') | ForEach-Object { $_.Groups[1].Value })
        $inSet = @($parameters | Where-Object { (Get-ParameterVariant $_ $setName) } | ForEach-Object Name)
        $missing = @($inSet | Where-Object { $order -notcontains $_ })
        $extra = @($order | Where-Object { $inSet -notcontains $_ })
        if ($missing.Count -or $extra.Count) {
            throw (New-ParseError $path $code[0].Line "the syntax of set '$setName' and the parameters whose 'Parameter Sets' list it differ (only in the syntax: $($extra -join ', '); only in PARAMETERS: $($missing -join ', '))")
        }
        $syntax.Add([pscustomobject]@{ SetName = $setName; Parameters = $order })
    }
    if ($syntax.Count -eq 0) { throw (New-ParseError $path $page['SYNTAX'].Line 'SYNTAX lists no parameter set') }
    foreach ($parameter in $parameters) {
        foreach ($variant in $parameter.Variants) {
            foreach ($set in $variant.Sets) {
                if ($set -ne '(All)' -and -not ($syntax | Where-Object SetName -eq $set)) {
                    throw (New-ParseError $path $parameter.Line "parameter -$($parameter.Name) names set '$set', which SYNTAX does not list")
                }
            }
        }
    }

    # EXAMPLES: "### Example N: title", the code, then remarks (text, and output in ```output blocks).
    $examples = [System.Collections.Generic.List[object]]::new()
    $exampleSections = Split-Sections $page['EXAMPLES'].Blocks 3
    if ($exampleSections[0].Blocks.Count -gt 0) { throw (New-ParseError $path $exampleSections[0].Blocks[0].Line 'text in EXAMPLES before the first "### Example"') }
    for ($s = 1; $s -lt $exampleSections.Count; $s++) {
        $section = $exampleSections[$s]
        $code = [System.Collections.Generic.List[string]]::new()
        $remarks = [System.Collections.Generic.List[string]]::new()
        foreach ($block in $section.Blocks) {
            if ($block.Kind -eq 'Heading') { throw (New-ParseError $path $block.Line "unexpected heading '$($block.Text)' in an example") }
            if ($block.Kind -eq 'Code' -and $script:CodeLanguages -contains $block.Language) {
                if ($remarks.Count -gt 0) { throw (New-ParseError $path $block.Line 'PowerShell code after the remarks of an example; start a new example') }
                $code.Add($block.Text)
            }
            elseif ($block.Kind -eq 'Code' -and $block.Language -notin 'output', 'text', '') {
                throw (New-ParseError $path $block.Line "code block language '$($block.Language)' in an example; use powershell for code and output for output")
            }
            elseif ($code.Count -eq 0) {
                throw (New-ParseError $path $block.Line 'an example must start with its PowerShell code block')
            }
            else {
                foreach ($para in (Get-ParagraphText $block)) { $remarks.Add($para) }
            }
        }
        if ($code.Count -eq 0) { throw (New-ParseError $path $section.Line "example '$($section.Title)' has no powershell code block") }
        $examples.Add([pscustomobject]@{ Title = $section.Title; Code = ($code -join "`n`n"); Remarks = $remarks.ToArray() })
    }

    # INPUTS / OUTPUTS: "### TypeName" then its description.
    $types = @{}
    foreach ($title in 'INPUTS', 'OUTPUTS') {
        $list = [System.Collections.Generic.List[object]]::new()
        $typeSections = Split-Sections $page[$title].Blocks 3
        if ($typeSections[0].Blocks.Count -gt 0) { throw (New-ParseError $path $typeSections[0].Blocks[0].Line "text in $title before the first '### <type>'") }
        if ($typeSections.Count -lt 2) { throw (New-ParseError $path $page[$title].Line "$title lists no type (write '### None' when there is none)") }
        for ($s = 1; $s -lt $typeSections.Count; $s++) {
            foreach ($block in $typeSections[$s].Blocks) {
                if ($block.Kind -eq 'Heading') { throw (New-ParseError $path $block.Line "unexpected heading '$($block.Text)' in $title") }
            }
            $list.Add([pscustomobject]@{ Type = $typeSections[$s].Title.Trim(); Description = @($typeSections[$s].Blocks | ForEach-Object { Get-ParagraphText $_ }) })
        }
        $types[$title] = $list
    }

    $notes = @()
    if ($page.Contains('NOTES')) {
        Assert-NoSubHeadings $page['NOTES'] $path
        $notes = @($page['NOTES'].Blocks | ForEach-Object { Get-ParagraphText $_ })
    }

    $links = [System.Collections.Generic.List[object]]::new()
    $online = ''
    if ($Document.FrontMatter -and $Document.FrontMatter.Contains('online version')) { $online = $Document.FrontMatter['online version'] }
    if ($online) { $links.Add([pscustomobject]@{ Text = 'Online Version:'; Uri = $online }) }
    if ($page.Contains('RELATED LINKS')) {
        Assert-NoSubHeadings $page['RELATED LINKS'] $path
        foreach ($block in $page['RELATED LINKS'].Blocks) {
            foreach ($link in (Get-RelatedLinks $block $path)) { $links.Add($link) }
        }
    }

    [pscustomobject]@{
        Name        = $name
        Synopsis    = $synopsis
        Description = $description
        Syntax      = $syntax.ToArray()
        Parameters  = $parameters.ToArray()
        Examples    = $examples.ToArray()
        Inputs      = $types['INPUTS'].ToArray()
        Outputs     = $types['OUTPUTS'].ToArray()
        Notes       = $notes
        Links       = $links.ToArray()
    }
}

function Get-ParameterVariant {
    # The yaml block of a parameter that applies to a parameter set, or $null when it is not in the set.
    param($Parameter, [string] $SetName)
    foreach ($variant in $Parameter.Variants) {
        if ($variant.Sets -contains $SetName -or $variant.Sets -contains '(All)') { return $variant }
    }
    $null
}

function Write-Paragraphs {
    param([System.Xml.XmlWriter] $Writer, [string[]] $Paragraphs)
    $Writer.WriteStartElement('maml', 'description', $script:Namespaces.maml)
    foreach ($paragraph in $Paragraphs) { $Writer.WriteElementString('maml', 'para', $script:Namespaces.maml, $paragraph) }
    $Writer.WriteEndElement()
}

function Write-ParameterElement {
    param([System.Xml.XmlWriter] $Writer, $Parameter, $Variant)
    $isSwitch = $Variant.Type -in 'SwitchParameter', 'System.Management.Automation.SwitchParameter'
    $Writer.WriteStartElement('command', 'parameter', $script:Namespaces.command)
    $Writer.WriteAttributeString('required', $Variant.Required.ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('variableLength', 'true')
    $Writer.WriteAttributeString('globbing', $Variant.Globbing.ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('pipelineInput', $Variant.PipelineInput)
    $Writer.WriteAttributeString('position', $(if ($Variant.Position -eq 'Named') { 'named' } else { $Variant.Position }))
    $Writer.WriteAttributeString('aliases', $(if ($Variant.Aliases) { $Variant.Aliases } else { 'none' }))
    $Writer.WriteElementString('maml', 'name', $script:Namespaces.maml, $Parameter.Name)
    Write-Paragraphs $Writer $Parameter.Description
    $accepted = @($Variant.AcceptedValues | Where-Object { $_ })
    if ($accepted.Count -gt 0) {
        $Writer.WriteStartElement('command', 'parameterValueGroup', $script:Namespaces.command)
        foreach ($value in $accepted) {
            $Writer.WriteStartElement('command', 'parameterValue', $script:Namespaces.command)
            $Writer.WriteAttributeString('required', 'false')
            $Writer.WriteAttributeString('variableLength', 'false')
            $Writer.WriteString($value)
            $Writer.WriteEndElement()
        }
        $Writer.WriteEndElement()
    }
    if (-not $isSwitch) {
        $Writer.WriteStartElement('command', 'parameterValue', $script:Namespaces.command)
        $Writer.WriteAttributeString('required', 'true')
        $Writer.WriteAttributeString('variableLength', 'false')
        $Writer.WriteString($Variant.Type)
        $Writer.WriteEndElement()
    }
    $Writer.WriteStartElement('dev', 'type', $script:Namespaces.dev)
    $Writer.WriteElementString('maml', 'name', $script:Namespaces.maml, $Variant.Type)
    $Writer.WriteElementString('maml', 'uri', $script:Namespaces.maml, '')
    $Writer.WriteEndElement()
    $Writer.WriteElementString('dev', 'defaultValue', $script:Namespaces.dev, $Variant.DefaultValue)
    $Writer.WriteEndElement()
}

function Write-CommandMaml {
    param([System.Xml.XmlWriter] $Writer, $Command)
    $ns = $script:Namespaces
    $Writer.WriteStartElement('command', 'command', $ns.command)
    foreach ($prefix in $ns.Keys) { $Writer.WriteAttributeString('xmlns', $prefix, $null, $ns[$prefix]) }

    $verb, $noun = $Command.Name -split '-', 2
    $Writer.WriteStartElement('command', 'details', $ns.command)
    $Writer.WriteElementString('command', 'name', $ns.command, $Command.Name)
    $Writer.WriteElementString('command', 'verb', $ns.command, $verb)
    $Writer.WriteElementString('command', 'noun', $ns.command, $noun)
    Write-Paragraphs $Writer @($Command.Synopsis)
    $Writer.WriteEndElement()

    Write-Paragraphs $Writer $Command.Description

    $Writer.WriteStartElement('command', 'syntax', $ns.command)
    foreach ($item in $Command.Syntax) {
        $Writer.WriteStartElement('command', 'syntaxItem', $ns.command)
        $Writer.WriteElementString('maml', 'name', $ns.maml, $Command.Name)
        foreach ($parameterName in $item.Parameters) {
            $parameter = $Command.Parameters | Where-Object Name -eq $parameterName
            Write-ParameterElement $Writer $parameter (Get-ParameterVariant $parameter $item.SetName)
        }
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($parameter in $Command.Parameters) { Write-ParameterElement $Writer $parameter $parameter.Variants[0] }
    $Writer.WriteEndElement()

    foreach ($kind in @(@('inputTypes', 'inputType', $Command.Inputs), @('returnValues', 'returnValue', $Command.Outputs))) {
        $Writer.WriteStartElement('command', $kind[0], $ns.command)
        foreach ($type in $kind[2]) {
            $Writer.WriteStartElement('command', $kind[1], $ns.command)
            $Writer.WriteStartElement('dev', 'type', $ns.dev)
            $Writer.WriteElementString('maml', 'name', $ns.maml, $type.Type)
            $Writer.WriteEndElement()
            Write-Paragraphs $Writer $type.Description
            $Writer.WriteEndElement()
        }
        $Writer.WriteEndElement()
    }

    $Writer.WriteStartElement('maml', 'alertSet', $ns.maml)
    $Writer.WriteStartElement('maml', 'alert', $ns.maml)
    foreach ($note in $Command.Notes) { $Writer.WriteElementString('maml', 'para', $ns.maml, $note) }
    $Writer.WriteEndElement()
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'examples', $ns.command)
    foreach ($example in $Command.Examples) {
        $Writer.WriteStartElement('command', 'example', $ns.command)
        $Writer.WriteElementString('maml', 'title', $ns.maml, ('-------------------------- {0} --------------------------' -f $example.Title))
        $Writer.WriteElementString('dev', 'code', $ns.dev, $example.Code)
        $Writer.WriteStartElement('dev', 'remarks', $ns.dev)
        foreach ($remark in $example.Remarks) { $Writer.WriteElementString('maml', 'para', $ns.maml, $remark) }
        $Writer.WriteEndElement()
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'relatedLinks', $ns.command)
    foreach ($link in $Command.Links) {
        $Writer.WriteStartElement('maml', 'navigationLink', $ns.maml)
        $Writer.WriteElementString('maml', 'linkText', $ns.maml, $link.Text)
        $Writer.WriteElementString('maml', 'uri', $ns.maml, $link.Uri)
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteEndElement()
}

function Format-Wrapped {
    # Wraps text at $Width columns with an indent, for the about topics.
    param([string] $Text, [int] $Indent, [int] $Width = 80, [int] $HangingIndent = -1)
    if ($HangingIndent -lt 0) { $HangingIndent = $Indent }
    $lines = [System.Collections.Generic.List[string]]::new()
    $line = ' ' * $Indent
    $empty = $true
    foreach ($word in ($Text -split '\s+' | Where-Object { $_ })) {
        if (-not $empty -and $line.Length + 1 + $word.Length -gt $Width) {
            $lines.Add($line)
            $line = (' ' * $HangingIndent) + $word
        }
        elseif ($empty) { $line += $word }
        else { $line += ' ' + $word }
        $empty = $false
    }
    if (-not $empty) { $lines.Add($line) }
    $lines -join [Environment]::NewLine
}

function ConvertTo-AboutText {
    # An about_*.md page as the plain text that Get-Help about_<topic> prints.
    param($Document)
    $path = $Document.Path
    $blocks = $Document.Blocks
    if ($blocks.Count -eq 0 -or $blocks[0].Kind -ne 'Heading' -or $blocks[0].Level -ne 1 -or $blocks[0].Text -notmatch '^about_[A-Za-z0-9_]+$') {
        throw (New-ParseError $path 1 'an about page must start (after the front matter) with "# about_<Topic>"')
    }
    $nl = [Environment]::NewLine
    $out = [System.Text.StringBuilder]::new()
    [void]$out.Append('TOPIC').Append($nl).Append('    ').Append($blocks[0].Text).Append($nl)
    for ($i = 1; $i -lt $blocks.Count; $i++) {
        $block = $blocks[$i]
        # Text follows its heading directly, as in the built-in about topics: Get-Help takes line 5, the
        # first line under SHORT DESCRIPTION, as the topic's synopsis.
        if ($blocks[$i - 1].Kind -ne 'Heading' -or $i -eq 1) { [void]$out.Append($nl) }
        switch ($block.Kind) {
            'Heading' {
                switch ($block.Level) {
                    1 { throw (New-ParseError $path $block.Line 'only one "#" heading is allowed') }
                    2 { [void]$out.Append($block.Text.ToUpperInvariant()).Append($nl) }
                    3 { [void]$out.Append('  ').Append($block.Text).Append($nl) }
                    default { [void]$out.Append('    ').Append($block.Text).Append($nl) }
                }
            }
            'Code' {
                foreach ($codeLine in ($block.Text -split "`n")) { [void]$out.Append('        ').Append($codeLine.TrimEnd()).Append($nl) }
            }
            'Paragraph' {
                if ($block.Form -eq 'Table') {
                    foreach ($cells in (Get-TableRows $block.Node $path)) { [void]$out.Append('    ').Append(($cells -join ' | ')).Append($nl) }
                }
                elseif ($block.Form -eq 'List') {
                    # One item per marker, wrapped under its text; a loose list keeps its blank lines.
                    foreach ($item in (Get-ListItems $block.Node $path)) {
                        if ($item.BlankBefore) { [void]$out.Append($nl) }
                        $marker = if ($item.Marker -match '^\d') { $item.Marker } else { '-' }
                        $indent = 4 + 2 * $item.Depth
                        $text = (' ' * $indent) + $marker + ' ' + $item.Text
                        [void]$out.Append((Format-Wrapped $text.Trim() $indent 80 ($indent + $marker.Length + 1))).Append($nl)
                    }
                }
                else {
                    [void]$out.Append((Format-Wrapped $block.Text 4)).Append($nl)
                }
            }
        }
    }
    $out.ToString()
}

function Test-ModulePage {
    param($Document)
    foreach ($key in 'Module Name', 'Module Guid', 'Download Help Link', 'Help Version', 'Locale') {
        if (-not $Document.FrontMatter.Contains($key)) { throw (New-ParseError $Document.Path 1 "the module page's front matter has no '$key'") }
    }
}

function ConvertTo-ModuleHelp {
    <#
    .SYNOPSIS
        Turns a folder of platyPS markdown into MAML (one file per 'external help file') and about_*.help.txt.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $DocsPath,
        [Parameter(Mandatory)] [string] $OutputPath
    )
    $DocsPath = (Resolve-Path -LiteralPath $DocsPath).ProviderPath
    if (-not (Test-Path -LiteralPath $OutputPath)) { $null = New-Item -ItemType Directory -Path $OutputPath -Force }
    $OutputPath = (Resolve-Path -LiteralPath $OutputPath).ProviderPath

    $commandsByFile = [ordered]@{}
    $written = [System.Collections.Generic.List[string]]::new()
    $utf8 = [System.Text.UTF8Encoding]::new($true)
    foreach ($file in (Get-ChildItem -LiteralPath $DocsPath -Filter '*.md' -File | Sort-Object Name)) {
        $document = Read-MarkdownBlocks $file.FullName
        if ($file.BaseName -like 'about_*') {
            $target = Join-Path $OutputPath ($file.BaseName + '.help.txt')
            [System.IO.File]::WriteAllText($target, (ConvertTo-AboutText $document), $utf8)
            $written.Add($target)
            continue
        }
        if ($null -eq $document.FrontMatter) { throw (New-ParseError $file.FullName 1 'the page has no front matter (--- ... ---)') }
        if ($document.FrontMatter.Contains('Module Guid')) {
            Test-ModulePage $document
            continue
        }
        foreach ($key in 'external help file', 'Module Name', 'schema') {
            if (-not $document.FrontMatter.Contains($key) -or -not $document.FrontMatter[$key]) { throw (New-ParseError $file.FullName 1 "the front matter has no '$key'") }
        }
        if ($document.FrontMatter['schema'] -ne '2.0.0') { throw (New-ParseError $file.FullName 1 "schema '$($document.FrontMatter['schema'])' is not supported; only 2.0.0") }
        $command = Read-CommandPage $document
        if ($file.BaseName -ne $command.Name) { throw (New-ParseError $file.FullName 1 "the page describes '$($command.Name)' but is named '$($file.Name)'") }
        $helpFile = $document.FrontMatter['external help file']
        if (-not $commandsByFile.Contains($helpFile)) { $commandsByFile[$helpFile] = [System.Collections.Generic.List[object]]::new() }
        $commandsByFile[$helpFile].Add($command)
    }

    foreach ($helpFile in $commandsByFile.Keys) {
        $target = Join-Path $OutputPath $helpFile
        $settings = [System.Xml.XmlWriterSettings]::new()
        $settings.Indent = $true
        $settings.Encoding = [System.Text.UTF8Encoding]::new($false)
        $writer = [System.Xml.XmlWriter]::Create($target, $settings)
        try {
            $writer.WriteStartDocument()
            $writer.WriteStartElement('helpItems', 'http://msh')
            $writer.WriteAttributeString('schema', 'maml')
            foreach ($command in $commandsByFile[$helpFile]) { Write-CommandMaml $writer $command }
            $writer.WriteEndElement()
            $writer.WriteEndDocument()
        }
        finally {
            $writer.Dispose()
        }
        $written.Add($target)
    }
    $written.ToArray()
}

Export-ModuleMember -Function ConvertTo-ModuleHelp
