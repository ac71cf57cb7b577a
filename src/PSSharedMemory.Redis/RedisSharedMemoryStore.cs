using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using PSSharedMemory.Engine;
using StackExchange.Redis;

namespace PSSharedMemory.Redis
{
    /// <summary>
    /// Segments kept on a Redis server (standalone, behind Sentinel, or a Cluster), for processes on several
    /// machines. Each segment is a hash, a lock key and, for a queue, a list, under one '{name}' hash tag;
    /// every change is one Lua script that also publishes it, so waits wake at once. User scope is a key prefix
    /// with the OS user name, global scope a shared prefix: who may read or write what is up to the server's ACLs.
    /// </summary>
    public sealed partial class RedisSharedMemoryStore : ISharedMemoryStore, IDisposable
    {
        /// <summary>Default lease of a lock: a holder that dies or is cut off loses the lock within this.</summary>
        public static readonly TimeSpan DefaultLockLease = TimeSpan.FromSeconds(3);

        /// <summary>The most one value may take on a Redis server with default settings (proto-max-bulk-len).</summary>
        public const long LargestValue = 512L * 1024 * 1024;

        /// <summary>How often a wait looks again even without a notice, and checks that the server still answers.</summary>
        internal static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

        private readonly ConnectionMultiplexer _connection;
        private readonly string _keyRoot;

        private RedisSharedMemoryStore(ConnectionMultiplexer connection, string location, int database, TimeSpan lease, TimeSpan unavailableTimeout, string keyRoot)
        {
            _connection = connection;
            Location = location;
            Database = database;
            LockLease = lease;
            UnavailableTimeout = unavailableTimeout;
            _keyRoot = keyRoot;
        }

        /// <inheritdoc />
        public string Location { get; }

        /// <summary>The database number the URI chose.</summary>
        public int Database { get; }

        /// <summary>The lease of a lock this store's handles take (the URI's lease=ms; default 3 s).</summary>
        public TimeSpan LockLease { get; }

        /// <summary>How long an operation or a wait goes on while the server does not answer before it fails with StoreUnavailable.</summary>
        public TimeSpan UnavailableTimeout { get; }

        internal IDatabase Db => _connection.GetDatabase(Database);

        internal ISubscriber Subscriber => _connection.GetSubscriber();

        internal static string HostName { get; } = Environment.MachineName;

        internal static int ProcessId { get; } = Environment.ProcessId;

        /// <inheritdoc />
        public string KeyFor(SharedMemoryScope scope) => Location + "|" + Prefix(scope);

        /// <summary>
        /// The key prefix of a scope: root:user:NAME: for the user scope (NAME being the OS user name),
        /// root:global: for the global one.
        /// </summary>
        public string Prefix(SharedMemoryScope scope) =>
            scope == SharedMemoryScope.Global ? _keyRoot + ":global:" : _keyRoot + ":user:" + Environment.UserName + ":";

        /// <inheritdoc />
        public ISharedMemorySegment Create(string name, long size, SharedMemoryOptions options)
        {
            if (!TryCreate(name, size, options ?? SharedMemoryOptions.Default))
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.AlreadyExists, name, $"A shared memory segment named '{name}' already exists in the Redis store {Location}.");
            }

            return Open(name, options?.Scope ?? SharedMemoryScope.User);
        }

        /// <inheritdoc />
        public ISharedMemorySegment Open(string name, SharedMemoryScope scope)
        {
            SegmentName.Validate(name);
            RedisSegmentKeys keys = KeysOf(name, scope);
            RedisValue[] fields = Call(name, () => Db.HashGet(keys.Hash, new RedisValue[] { "id", "kind", "max", "grow" }));
            if (fields[0].IsNull)
            {
                throw SharedMemoryException.NotFound(name, scope);
            }

            return new RedisSegment(this, name, scope, keys, (string)fields[0]!,
                (int)fields[1] == 1 ? SharedMemorySegmentKind.Queue : SharedMemorySegmentKind.Value, (long)fields[2], (int)fields[3] == 1);
        }

        /// <inheritdoc />
        public ISharedMemorySegment OpenOrCreate(string name, long size, SharedMemoryOptions options, out bool created)
        {
            options ??= SharedMemoryOptions.Default;
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    ISharedMemorySegment segment = Open(name, options.Scope);
                    created = false;
                    return segment;
                }
                catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.NotFound && attempt < 3)
                {
                }

                if (TryCreate(name, size, options))
                {
                    created = true;
                    return Open(name, options.Scope);
                }
            }
        }

        /// <inheritdoc />
        public bool Exists(string name, SharedMemoryScope scope)
        {
            SegmentName.Validate(name);
            RedisSegmentKeys keys = KeysOf(name, scope);
            return Call(name, () => Db.KeyExists(keys.Hash));
        }

        /// <inheritdoc />
        public IReadOnlyList<SharedMemorySegmentInfo> List(string pattern, SharedMemoryScope scope)
        {
            string prefix = Prefix(scope);
            var names = new SortedSet<string>(StringComparer.Ordinal);
            Call(null, () =>
            {
                foreach (IServer server in _connection.GetServers())
                {
                    if (server.IsReplica || !server.IsConnected)
                    {
                        continue;
                    }

                    foreach (RedisKey key in server.Keys(Database, Escape(prefix) + "{*}", pageSize: 1000))
                    {
                        string text = key.ToString();
                        if (!text.EndsWith("}", StringComparison.Ordinal) || text.Length < prefix.Length + 3)
                        {
                            continue;
                        }

                        string name = text.Substring(prefix.Length + 1, text.Length - prefix.Length - 2);
                        if (SegmentName.IsValid(name) && SegmentName.Matches(name, pattern ?? "*"))
                        {
                            names.Add(name);
                        }
                    }
                }

                return 0;
            });

            var list = new List<SharedMemorySegmentInfo>(names.Count);
            foreach (string name in names)
            {
                SharedMemorySegmentInfo? info = InfoOf(name, scope, KeysOf(name, scope));
                if (info is not null)
                {
                    list.Add(info);
                }
            }

            return list;
        }

        /// <inheritdoc />
        public bool Remove(string name, SharedMemoryScope scope)
        {
            SegmentName.Validate(name);
            RedisSegmentKeys keys = KeysOf(name, scope);
            RedisResult result = Call(name, () => Db.ScriptEvaluate(RedisScripts.Remove, keys.All, new RedisValue[] { keys.Channel.ToString() }));
            return (long)result == 1;
        }

        /// <inheritdoc />
        public ISharedMemorySegment WaitForCreation(string name, SharedMemoryScope scope, TimeSpan timeout, CancellationToken cancellationToken)
        {
            SegmentName.Validate(name);
            CheckTimeout(timeout);
            RedisSegmentKeys keys = KeysOf(name, scope);
            Deadline deadline = Deadline.After(timeout);
            using var watch = new RedisWatch(this, new[] { keys.Channel });
            while (true)
            {
                watch.Reset();
                if (watch.TryLook(() => Exists(name, scope), out bool exists) && exists)
                {
                    try
                    {
                        return Open(name, scope);
                    }
                    catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.NotFound)
                    {
                        // Removed again at once: wait on.
                    }
                }

                if (deadline.HasPassed)
                {
                    throw new SharedMemoryException(SharedMemoryErrorCode.WaitTimeout, name,
                        $"No shared memory segment named '{name}' was created in the Redis store {Location} within {Deadline.Describe(timeout)}.");
                }

                watch.Wait(deadline, cancellationToken);
            }
        }

        /// <inheritdoc />
        public bool TryWaitForAny(IReadOnlyList<ISharedMemorySegment> segments, IReadOnlyList<long> sinceVersions, TimeSpan timeout,
            CancellationToken cancellationToken, out IReadOnlyList<int> ready)
        {
            if (segments is null)
            {
                throw new ArgumentNullException(nameof(segments));
            }

            if (sinceVersions is null || sinceVersions.Count != segments.Count)
            {
                throw new ArgumentException("Give one version for each segment.", nameof(sinceVersions));
            }

            CheckTimeout(timeout);
            var own = new RedisSegment[segments.Count];
            var channels = new List<RedisChannel>();
            for (int i = 0; i < own.Length; i++)
            {
                own[i] = segments[i] as RedisSegment is { } segment && ReferenceEquals(segment.Owner, this)
                    ? segment
                    : throw new ArgumentException($"Segment {i} of the list is not in the Redis store {Location}.", nameof(segments));
                own[i].ThrowIfDisposed();
                channels.Add(own[i].Keys.Channel);
            }

            Deadline deadline = Deadline.After(timeout);
            using var watch = new RedisWatch(this, channels);
            var found = new List<int>();
            while (true)
            {
                watch.Reset();
                for (int i = 0; i < own.Length; i++)
                {
                    own[i].ThrowIfDisposed();
                    if (own[i].ChangedOrRemoved(sinceVersions[i], watch))
                    {
                        found.Add(i);
                    }
                }

                if (found.Count > 0)
                {
                    ready = found;
                    return true;
                }

                if (deadline.HasPassed)
                {
                    ready = Array.Empty<int>();
                    return false;
                }

                watch.Wait(deadline, cancellationToken);
            }
        }

        /// <summary>Closes the connection.</summary>
        public void Dispose() => _connection.Dispose();

        internal RedisSegmentKeys KeysOf(string name, SharedMemoryScope scope) => new RedisSegmentKeys(Prefix(scope) + "{" + name + "}");

        /// <summary>The state of a segment as listed; null when it no longer exists.</summary>
        internal SharedMemorySegmentInfo? InfoOf(string name, SharedMemoryScope scope, RedisSegmentKeys keys) => InfoOf(name, scope, keys, out _);

        /// <summary>The state of a segment as listed, and the id of its creation; null when it no longer exists.</summary>
        internal SharedMemorySegmentInfo? InfoOf(string name, SharedMemoryScope scope, RedisSegmentKeys keys, out string id)
        {
            RedisResult[]? r = (RedisResult[]?)Call(name, () => Db.ScriptEvaluate(RedisScripts.Info, keys.All));
            if (r is null || r.Length == 0)
            {
                id = string.Empty;
                return null;
            }

            id = (string?)r[0] ?? string.Empty;

            var kind = (long)r[1] == 1 ? SharedMemorySegmentKind.Queue : SharedMemorySegmentKind.Value;
            long size = (long)r[2];
            RedisLock.Parse((string?)r[15] ?? string.Empty, out _, out string holderHost, out int holderPid);
            return new SharedMemorySegmentInfo(name, scope, size, kind == SharedMemorySegmentKind.Queue ? (long)r[13] : (long)r[14],
                kind == SharedMemorySegmentKind.Queue ? SharedMemoryContentType.Empty : (SharedMemoryContentType)(long)r[6],
                (long)r[5], (int)(long)r[7], FromUnixMs((long)r[9]), FromUnixMs((long)r[12]), (int)(long)r[10], isReadOnly: false)
            {
                Kind = kind,
                IsGrowable = (long)r[4] == 1,
                MaximumSize = (long)r[4] == 1 ? (long)r[3] : size,
                MessageCount = kind == SharedMemorySegmentKind.Queue ? (long)r[16] : 0,
                IsLocked = !string.IsNullOrEmpty((string?)r[15]),
                LockHolderProcessId = holderPid,
                LockHolderHost = holderHost,
                LastWriterHost = (string?)r[8] ?? string.Empty,
                Store = Location,
            };
        }

        internal static DateTime FromUnixMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime;

        internal static long NowUnixMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        private static string Escape(string prefix)
        {
            var text = new System.Text.StringBuilder(prefix.Length);
            foreach (char c in prefix)
            {
                if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
                {
                    text.Append('\\');
                }

                text.Append(c);
            }

            return text.ToString();
        }

        private bool TryCreate(string name, long size, SharedMemoryOptions options)
        {
            SegmentName.Validate(name);
            long max = options.Growable ? options.MaximumSize ?? LargestValue : size;
            if (size < 1 || size > LargestValue)
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.InvalidSize, name,
                    $"A size of {size.ToString("N0", CultureInfo.InvariantCulture)} bytes is not valid for segment '{name}' in a Redis store. Use a size from 1 byte to {LargestValue.ToString("N0", CultureInfo.InvariantCulture)} bytes, the most one Redis value holds.");
            }

            if (max < size || max > LargestValue)
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.InvalidSize, name,
                    $"A largest size of {max.ToString("N0", CultureInfo.InvariantCulture)} bytes is not valid for growable segment '{name}' of size {size.ToString("N0", CultureInfo.InvariantCulture)} bytes in a Redis store. Use a largest size from the size to {LargestValue.ToString("N0", CultureInfo.InvariantCulture)} bytes.");
            }

            if (options.Kind == SharedMemorySegmentKind.Queue)
            {
                // As in the local store: the bytes the messages can take, a multiple of 8.
                size = (size + 7) & ~7L;
                max = size;
            }

            RedisSegmentKeys keys = KeysOf(name, options.Scope);
            RedisResult result = Call(name, () => Db.ScriptEvaluate(RedisScripts.Create, keys.All, new RedisValue[]
            {
                Guid.NewGuid().ToString("N"),
                options.Kind == SharedMemorySegmentKind.Queue ? 1 : 0,
                size,
                max,
                options.Growable && options.Kind != SharedMemorySegmentKind.Queue ? 1 : 0,
                NowUnixMs(),
                ProcessId,
                HostName,
                keys.Channel.ToString(),
            }));
            return (long)result == 1;
        }
    }
}
