namespace PSSharedMemory
{
    /// <summary>Where Get-Help -Online finds each cmdlet's page: its markdown in the project repository.</summary>
    internal static class HelpLinks
    {
        private const string Docs = "https://github.com/PSSharedMemory/PSSharedMemory/blob/main/docs/en-US/";

        public const string Get = Docs + "Get-SharedMemory.md";
        public const string Lock = Docs + "Lock-SharedMemory.md";
        public const string New = Docs + "New-SharedMemory.md";
        public const string Read = Docs + "Read-SharedMemory.md";
        public const string Receive = Docs + "Receive-SharedMemoryMessage.md";
        public const string Remove = Docs + "Remove-SharedMemory.md";
        public const string Send = Docs + "Send-SharedMemoryMessage.md";
        public const string Unlock = Docs + "Unlock-SharedMemory.md";
        public const string Write = Docs + "Write-SharedMemory.md";
        public const string Wait = Docs + "Wait-SharedMemory.md";
        public const string RegisterEvent = Docs + "Register-SharedMemoryEvent.md";
    }
}
