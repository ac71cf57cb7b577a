namespace PSSharedMemory.Engine
{
    /// <summary>What the payload of a segment holds. Stored as a u32 in the header.</summary>
    public enum SharedMemoryContentType
    {
        /// <summary>Nothing has been written yet.</summary>
        Empty = 0,

        /// <summary>UTF-8 text without a byte order mark.</summary>
        Text = 1,

        /// <summary>Raw bytes.</summary>
        Bytes = 2,

        /// <summary>PowerShell CliXml (UTF-8), as written by PSSerializer.</summary>
        CliXml = 3,
    }

    /// <summary>Who may open a segment.</summary>
    public enum SharedMemoryScope
    {
        /// <summary>Only the user who created it. Another user's segment of the same name is a different segment.</summary>
        User = 0,

        /// <summary>A machine-wide namespace; access is governed by <see cref="SharedMemoryOptions.Permissions"/>.</summary>
        Global = 1,
    }
}
