namespace PSSharedMemory.Engine
{
    /// <summary>What a segment holds: one value that each write replaces, or a queue of messages.</summary>
    public enum SharedMemorySegmentKind
    {
        /// <summary>One payload at a time: a write replaces it, a read copies it (layout versions 1 and 2).</summary>
        Value = 0,

        /// <summary>
        /// Messages in order: each one sent is received once, by one receiver, oldest first (layout version 3).
        /// </summary>
        Queue = 1,
    }
}
