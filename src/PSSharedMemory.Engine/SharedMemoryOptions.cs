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

        /// <summary>
        /// True to create a growable segment: a write that needs more room than its size grows it (up to
        /// <see cref="MaximumSize"/>) instead of failing with PayloadTooLarge. Other processes' handles follow
        /// the grow. Its file uses layout version 2 (docs/segment-format.md), which readers of version 1 refuse.
        /// </summary>
        public bool Growable { get; set; }

        /// <summary>
        /// <see cref="SharedMemorySegmentKind.Queue"/> to create a queue of messages (layout version 3): the
        /// size is then the ring's size in bytes, rounded up to a multiple of 8, and a queue does not grow.
        /// </summary>
        public SharedMemorySegmentKind Kind { get; set; }

        /// <summary>
        /// With <see cref="Growable"/>: the most the segment may grow to, in bytes. Null means
        /// <see cref="SharedMemorySegment.MaxSize"/> (1 TiB); the store's free space usually ends growth first,
        /// with OutOfSpace at the write that needs it.
        /// </summary>
        public long? MaximumSize { get; set; }
    }
}
