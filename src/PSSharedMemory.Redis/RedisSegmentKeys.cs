using StackExchange.Redis;

namespace PSSharedMemory.Redis
{
    /// <summary>The keys of one segment, all with the '{name}' hash tag, and its notice channel.</summary>
    internal readonly struct RedisSegmentKeys
    {
        public RedisSegmentKeys(string hash)
        {
            Hash = hash;
            Lock = hash + ":lock";
            Queue = hash + ":queue";
            Channel = RedisChannel.Literal(hash + ":events");
            All = new RedisKey[] { Hash, Lock, Queue };
        }

        public RedisKey Hash { get; }

        public RedisKey Lock { get; }

        public RedisKey Queue { get; }

        public RedisChannel Channel { get; }

        /// <summary>KEYS of every script: the hash, the lock and the queue list.</summary>
        public RedisKey[] All { get; }
    }
}
