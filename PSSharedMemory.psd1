@{
    RootModule           = 'PSSharedMemory.dll'
    ModuleVersion        = '0.2.0'
    CompatiblePSEditions = @('Desktop', 'Core')
    GUID                 = '5b0f3c1e-8a7d-4c2b-9e61-3f2a7d4c9b10'
    Author               = 'PSSharedMemory contributors'
    CompanyName          = 'PSSharedMemory contributors'
    Copyright            = '(c) PSSharedMemory contributors. MIT License.'
    Description          = 'Named shared memory segments for PowerShell: write text, bytes or objects in one session and read them in another, with a cross-process lock that a crashed holder cannot leave stuck and waits for the next change.'
    PowerShellVersion    = '5.1'
    RequiredAssemblies   = @('PSSharedMemory.Engine.dll')
    TypesToProcess       = @('PSSharedMemory.Types.ps1xml')
    FormatsToProcess     = @('PSSharedMemory.Format.ps1xml')
    CmdletsToExport      = @(
        'Get-SharedMemory'
        'Lock-SharedMemory'
        'New-SharedMemory'
        'Read-SharedMemory'
        'Receive-SharedMemoryMessage'
        'Register-SharedMemoryEvent'
        'Remove-SharedMemory'
        'Send-SharedMemoryMessage'
        'Unlock-SharedMemory'
        'Wait-SharedMemory'
        'Write-SharedMemory'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('SharedMemory', 'IPC', 'InterProcess', 'MemoryMappedFile', 'Lock', 'Linux', 'Windows', 'MacOS', 'PSEdition_Core', 'PSEdition_Desktop')
            ProjectUri   = 'https://github.com/PSSharedMemory/PSSharedMemory'
            LicenseUri   = 'https://github.com/PSSharedMemory/PSSharedMemory/blob/main/LICENSE'
            ReleaseNotes = 'See CHANGELOG.md: https://github.com/PSSharedMemory/PSSharedMemory/blob/main/CHANGELOG.md'
        }
    }
}
