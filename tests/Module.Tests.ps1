BeforeAll {
    . $PSScriptRoot/common.ps1
    $script:SourceManifest = Import-PowerShellDataFile -Path (Join-Path $PSScriptRoot '../PSSharedMemory.psd1')
}

Describe 'The staged PSSharedMemory module' {
    It 'passes Test-ModuleManifest' {
        $manifest = Test-ModuleManifest -Path $script:ModuleManifest
        $manifest.Name | Should -Be 'PSSharedMemory'
        $manifest.Version | Should -Be ([version]$script:SourceManifest.ModuleVersion)
    }

    It 'lives in a folder named after the version in the source manifest' {
        Split-Path -Leaf $script:ModulePath | Should -Be $script:SourceManifest.ModuleVersion
    }

    It 'exports exactly the cmdlets named in the manifest, and nothing else' {
        $module = Get-Module PSSharedMemory
        @($module.ExportedCmdlets.Keys | Sort-Object) | Should -Be @($script:SourceManifest.CmdletsToExport | Sort-Object)
        $module.ExportedFunctions.Count | Should -Be 0
        $module.ExportedAliases.Count | Should -Be 0
        $module.ExportedVariables.Count | Should -Be 0
    }

    It 'declares both editions and PowerShell 5.1' {
        $script:SourceManifest.CompatiblePSEditions | Should -Be @('Desktop', 'Core')
        $script:SourceManifest.PowerShellVersion | Should -Be '5.1'
    }

    It 'ships only its own assemblies in its root, and the Redis store with its client apart, in its redis folder' {
        $dlls = Get-ChildItem -LiteralPath $script:ModulePath -Filter *.dll | ForEach-Object Name | Sort-Object
        $dlls | Should -Be @('PSSharedMemory.dll', 'PSSharedMemory.Engine.dll')
        $redis = Get-ChildItem -LiteralPath (Join-Path $script:ModulePath 'redis') -Filter *.dll | ForEach-Object Name
        foreach ($name in 'PSSharedMemory.Redis.Loader.dll', 'PSSharedMemory.Redis.dll', 'StackExchange.Redis.dll') { $redis | Should -Contain $name }
        # One copy of the engine, in the root: the Redis store's load context shares its types with the module.
        $redis | Should -Not -Contain 'PSSharedMemory.Engine.dll'
        Get-ChildItem -LiteralPath $script:ModulePath -Directory | ForEach-Object Name | Sort-Object | Should -Be @('en-US', 'redis')
    }

    It 'has the format file it names' {
        foreach ($file in $script:SourceManifest.FormatsToProcess) {
            Join-Path $script:ModulePath $file | Should -Exist
        }
    }

    It 'imports in a fresh process' {
        $names = Invoke-ChildPwsh -Script '(Get-Module PSSharedMemory).ExportedCmdlets.Keys | Sort-Object'
        $names | Should -Be @($script:SourceManifest.CmdletsToExport | Sort-Object)
    }
}
