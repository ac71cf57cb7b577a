namespace PSSharedMemory.Engine
{
    /// <summary>How a segment is created.</summary>
    public sealed class SharedMemoryOptions
    {
        /// <summary>The defaults: a per-user segment, mode 0600.</summary>
        public static SharedMemoryOptions Default { get; } = new SharedMemoryOptions();

        /// <summary>The namespace to create the segment in.</summary>
        public SharedMemoryScope Scope { get; set; } = SharedMemoryScope.User;

        /// <summary>
        /// Unix permission bits of the segment file (octal 0600 is 384). Null means 0600 in the user
        /// scope and 0660 in the global scope. Ignored on Windows, where the per-user folder's ACL applies.
        /// </summary>
        public int? Permissions { get; set; }
    }
}
