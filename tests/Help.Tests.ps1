# The help of the built module: every exported cmdlet has complete help, and the markdown in docs/en-US
# describes exactly the parameters the compiled cmdlets have.

BeforeDiscovery {
    $manifest = Import-PowerShellDataFile -Path (Join-Path $PSScriptRoot '../PSSharedMemory.psd1')
    $modulePath = if ($env:PSSHAREDMEMORY_TEST_MODULE) { $env:PSSHAREDMEMORY_TEST_MODULE } else { Join-Path $PSScriptRoot "../output/PSSharedMemory/$($manifest.ModuleVersion)" }
    $module = Import-Module (Join-Path $modulePath 'PSSharedMemory.psd1') -Force -PassThru
    $script:CmdletCases = @($module.ExportedCmdlets.Keys | Sort-Object | ForEach-Object { @{ Cmdlet = $_ } })
}

BeforeAll {
    . $PSScriptRoot/common.ps1

    $script:DocsPath = Join-Path $PSScriptRoot '../docs/en-US'
    $script:CommonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters

    function Get-MarkdownParameterNames([string] $Cmdlet) {
        $path = Join-Path $script:DocsPath "$Cmdlet.md"
        @(Select-String -LiteralPath $path -Pattern '^### -([A-Za-z][A-Za-z0-9_]*)\s*$' | ForEach-Object { $_.Matches[0].Groups[1].Value })
    }

    function Get-CompiledParameterNames([string] $Cmdlet) {
        @((Get-Command $Cmdlet).Parameters.Keys | Where-Object { $script:CommonParameters -notcontains $_ })
    }
}

Describe 'Help of <Cmdlet>' -ForEach $CmdletCases {
    BeforeAll {
        $script:Help = Get-Help $Cmdlet -Full
    }

    It 'comes from the MAML file, not from the generated stub' {
        $Help.Synopsis | Should -Not -BeNullOrEmpty
        # Without MAML, Get-Help invents a synopsis that is the syntax itself.
        $Help.Synopsis.Trim() | Should -Not -Match "^$([regex]::Escape($Cmdlet)) \["
        Split-Path -Leaf (Get-Command $Cmdlet).HelpFile | Should -Be 'PSSharedMemory.dll-Help.xml'
    }

    It 'has a description' {
        ($Help.Description.Text -join "`n").Trim().Length | Should -BeGreaterThan 40
    }

    It 'describes every parameter' {
        $names = Get-CompiledParameterNames $Cmdlet
        foreach ($name in $names) {
            $parameter = $Help.parameters.parameter | Where-Object name -eq $name
            $parameter | Should -Not -BeNullOrEmpty -Because "-$name is a parameter of $Cmdlet"
            ($parameter.description.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty -Because "-$name needs a description"
        }
    }

    It 'has at least two examples, each with code and remarks' {
        $examples = @($Help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($example in $examples) {
            $example.code.Trim() | Should -Not -BeNullOrEmpty
            ($example.remarks.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty -Because "example '$($example.title)' needs an explanation"
        }
    }

    It 'has example code that parses' {
        foreach ($example in @($Help.examples.example)) {
            $tokens = $null
            $errors = $null
            $null = [System.Management.Automation.Language.Parser]::ParseInput($example.code, [ref]$tokens, [ref]$errors)
            $errors | Should -BeNullOrEmpty -Because "the code of '$($example.title.Trim('- '))' must be valid PowerShell"
        }
    }

    It 'documents exactly the parameters of the compiled cmdlet' {
        $documented = Get-MarkdownParameterNames $Cmdlet | Sort-Object
        $compiled = Get-CompiledParameterNames $Cmdlet | Sort-Object
        $documented | Should -Be $compiled
    }

    It 'shows, for each parameter set, the same required parameters and positions as the cmdlet' {
        $syntaxItems = @($Help.syntax.syntaxItem)
        foreach ($set in (Get-Command $Cmdlet).ParameterSets) {
            $parameters = @($set.Parameters | Where-Object { $script:CommonParameters -notcontains $_.Name })
            $names = @($parameters.Name | Sort-Object)
            $item = $syntaxItems | Where-Object { (@($_.parameter.name | Sort-Object) -join ',') -eq ($names -join ',') } | Select-Object -First 1
            $item | Should -Not -BeNullOrEmpty -Because "the syntax must list parameter set '$($set.Name)' ($($names -join ', '))"
            foreach ($parameter in $parameters) {
                $documented = $item.parameter | Where-Object name -eq $parameter.Name
                $documented.required | Should -Be $parameter.IsMandatory.ToString().ToLowerInvariant() -Because "-$($parameter.Name) in set '$($set.Name)'"
                $position = if ($parameter.Position -lt 0) { 'named' } else { [string]$parameter.Position }
                $documented.position | Should -Be $position -Because "-$($parameter.Name) in set '$($set.Name)'"
            }
        }
    }
}

Describe 'about_PSSharedMemory' {
    It 'is shown by Get-Help' {
        $text = Get-Help about_PSSharedMemory | Out-String
        $text | Should -Match 'about_PSSharedMemory'
        $text | Should -Match 'SHORT DESCRIPTION'
        $text | Should -Match 'Lock-SharedMemory'
    }
}

Describe 'The module help page' {
    It 'lists every exported cmdlet and carries the GUID of the manifest' {
        $page = Get-Content -LiteralPath (Join-Path $PSScriptRoot '../docs/en-US/PSSharedMemory.md') -Raw
        $manifest = Import-PowerShellDataFile -Path (Join-Path $PSScriptRoot '../PSSharedMemory.psd1')
        $page | Should -Match ([regex]::Escape("Module Guid: $($manifest.GUID)"))
        foreach ($cmdlet in (Get-Module PSSharedMemory).ExportedCmdlets.Keys) {
            $page | Should -Match ([regex]::Escape("### [$cmdlet]($cmdlet.md)"))
        }
    }
}
