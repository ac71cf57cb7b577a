using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using PSSharedMemory.Engine;
using StackExchange.Redis;

namespace PSSharedMemory.Redis
{
    /// <summary>
    /// A handle to one segment of a Redis store. Its lock is a lease (SET NX PX with a random token) that a
    /// timer renews while held and a compare-and-delete releases; it belongs to the handle, not to a thread,
    /// and is re-entrant for it. Once the lease is lost while held, every operation of the handle fails with
    /// LockLost until Unlock, which reports it too and lets go.
    /// </summary>
    internal sealed partial class RedisSegment : ISharedMemorySegment
    {
        private static readonly RedisValue[] s_versionFields = { "id", "ver" };

        private readonly object _lockGate = new object();
        private readonly string _id;
        private readonly long _max;
        private string _lockValue = string.Empty;
        private string _lockToken = string.Empty;
        private int _depth;
        private volatile bool _lost;
        private Timer? _renewal;
        private volatile bool _disposed;

        public RedisSegment(RedisSharedMemoryStore owner, string name, SharedMemoryScope scope, RedisSegmentKeys keys, string id,
            SharedMemorySegmentKind kind, long max, bool growable)
        {
            Owner = owner;
            Name = name;
            Scope = scope;
            Keys = keys;
            _id = id;
            Kind = kind;
            _max = max;
            IsGrowable = growable;
        }

        public RedisSharedMemoryStore Owner { get; }

        public string Name { get; }

        public SharedMemoryScope Scope { get; }

        public ISharedMemoryStore Store => Owner;

        public SharedMemorySegmentKind Kind { get; }

        public bool IsGrowable { get; }

        internal RedisSegmentKeys Keys { get; }

        public long Size => (long)Field("size");

        public SharedMemoryContentType ContentType => (SharedMemoryContentType)(int)Field("type");

        public long Version
        {
            get
            {
                ThrowIfDisposed();
                RedisValue[] fields = Owner.Call(Name, () => Owner.Db.HashGet(Keys.Hash, s_versionFields));
                if (fields[0] != _id)
                {
                    throw Gone();
                }

                return (long)fields[1];
            }
        }

        public bool IsLockHeld => Volatile.Read(ref _depth) > 0;

        public bool IsDisposed => _disposed;

        public bool IsRemoved
        {
            get
            {
                ThrowIfDisposed();
                return Owner.Call(Name, () => Owner.Db.HashGet(Keys.Hash, "id")) != _id;
            }
        }

        public bool IsOrphaned() => IsRemoved;

        public SharedMemorySegmentInfo GetInfo()
        {
            Enter();
            SharedMemorySegmentInfo? info = Owner.InfoOf(Name, Scope, Keys, out string id);
            if (info is null || id != _id)
            {
                throw Gone();
            }

            return info;
        }

        public long WaitForChange(long sinceVersion, TimeSpan timeout, CancellationToken cancellationToken) =>
            WaitFor(v => v != sinceVersion, timeout, cancellationToken);

        public long WaitForVersion(long newerThan, TimeSpan timeout, CancellationToken cancellationToken) =>
            WaitFor(v => v > newerThan, timeout, cancellationToken);

        public long Write(byte[] payload, int offset, int count, SharedMemoryContentType contentType, TimeSpan lockTimeout, CancellationToken cancellationToken) =>
            WriteBytes(Slice(payload, offset, count), contentType, null, false, lockTimeout, cancellationToken);

        public long Write(byte[] payload, int offset, int count, SharedMemoryContentType contentType, SharedMemoryWriteOptions options)
        {
            if (options is null)
            {
                throw new ArgumentNullException(nameof(options));
            }

            return WriteBytes(Slice(payload, offset, count), contentType, options.IfVersion, options.Append, options.LockTimeout, options.CancellationToken);
        }

        public long WriteText(string text, SharedMemoryContentType contentType, TimeSpan lockTimeout, CancellationToken cancellationToken) =>
            WriteBytes(Encode(text), contentType, null, false, lockTimeout, cancellationToken);

        public long WriteText(string text, SharedMemoryContentType contentType, SharedMemoryWriteOptions options)
        {
            if (options is null)
            {
                throw new ArgumentNullException(nameof(options));
            }

            return WriteBytes(Encode(text), contentType, options.IfVersion, options.Append, options.LockTimeout, options.CancellationToken);
        }

        public SharedMemoryContent Read(TimeSpan lockTimeout, CancellationToken cancellationToken)
        {
            Enter();
            RedisResult[] r = (RedisResult[])Owner.Call(Name, () => Owner.Db.ScriptEvaluate(RedisScripts.Read, Keys.All, new RedisValue[] { _id }))!;
            if ((string?)r[0] != _id)
            {
                throw Gone();
            }

            if ((long)r[4] != 0)
            {
                throw SegmentErrors.WrongKind(Name, SharedMemorySegmentKind.Queue, "read");
            }

            CheckStillHeld((string?)r[5] ?? string.Empty);
            return new SharedMemoryContent((byte[]?)r[3] ?? Array.Empty<byte>(), (SharedMemoryContentType)(long)r[1], (long)r[2]);
        }

        public string ReadText(TimeSpan lockTimeout, CancellationToken cancellationToken, out SharedMemoryContentType contentType, out long version)
        {
            SharedMemoryContent content = Read(lockTimeout, cancellationToken);
            contentType = content.ContentType;
            version = content.Version;
            return content.GetText();
        }

        public SharedMemoryContentType ReadAsStored(TimeSpan lockTimeout, CancellationToken cancellationToken, out string? text, out byte[]? bytes, out long version)
        {
            SharedMemoryContent content = Read(lockTimeout, cancellationToken);
            version = content.Version;
            bool binary = content.ContentType == SharedMemoryContentType.Bytes;
            text = binary ? null : content.GetText();
            bytes = binary ? content.Data : null;
            return content.ContentType;
        }

        public void Dispose()
        {
            string value;
            lock (_lockGate)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
                value = _depth > 0 && !_lost ? _lockValue : string.Empty;
                ClearLock();
            }

            if (value.Length > 0)
            {
                try
                {
                    Owner.Db.ScriptEvaluate(RedisScripts.Unlock, Keys.All, new RedisValue[] { value, Keys.Channel.ToString() });
                }
                catch (Exception e) when (e is RedisException || e is TimeoutException || e is ObjectDisposedException)
                {
                    // The server is gone: the lease ends the lock.
                }
            }
        }

        internal void ThrowIfDisposed()
        {
            if (_disposed)
            {
                throw new ObjectDisposedException(nameof(RedisSegment), $"The handle of segment '{Name}' was closed.");
            }
        }

        /// <summary>For a multi-segment wait: true when the segment has a version past <paramref name="since"/>, or is gone.</summary>
        internal bool ChangedOrRemoved(long since, RedisWatch watch)
        {
            if (!watch.TryLook(() => Owner.Call(Name, () => Owner.Db.HashGet(Keys.Hash, s_versionFields)), out RedisValue[] fields))
            {
                return false;
            }

            return fields[0] != _id || (long)fields[1] > since;
        }

        private static byte[] Slice(byte[] payload, int offset, int count)
        {
            if (payload is null)
            {
                throw new ArgumentNullException(nameof(payload));
            }

            if (offset < 0 || count < 0 || offset > payload.Length - count)
            {
                throw new ArgumentOutOfRangeException(nameof(count), "offset and count must lie within the payload array.");
            }

            if (offset == 0 && count == payload.Length)
            {
                return payload;
            }

            byte[] slice = new byte[count];
            Buffer.BlockCopy(payload, offset, slice, 0, count);
            return slice;
        }

        private static byte[] Encode(string text) =>
            text is null ? throw new ArgumentNullException(nameof(text)) : SharedMemoryContent.Utf8.GetBytes(text);

        private RedisValue Field(string field)
        {
            ThrowIfDisposed();
            RedisValue[] fields = Owner.Call(Name, () => Owner.Db.HashGet(Keys.Hash, new RedisValue[] { "id", field }));
            if (fields[0] != _id)
            {
                throw Gone();
            }

            return fields[1];
        }

        /// <summary>Every operation starts here: the handle is open, and a lock it holds was not lost.</summary>
        private void Enter()
        {
            ThrowIfDisposed();
            if (_lost && _depth > 0)
            {
                throw LockLost();
            }
        }

        private long WriteBytes(byte[] data, SharedMemoryContentType contentType, long? ifVersion, bool append, TimeSpan lockTimeout, CancellationToken cancellationToken)
        {
            if ((uint)contentType > (uint)SharedMemoryContentType.CliXml)
            {
                throw new ArgumentOutOfRangeException(nameof(contentType), contentType, "Unknown content type.");
            }

            if (Kind != SharedMemorySegmentKind.Value)
            {
                throw SegmentErrors.WrongKind(Name, Kind, append ? "appended to" : "written");
            }

            if (data.LongLength > _max)
            {
                throw TooLarge(data.LongLength, _max);
            }

            Deadline deadline = Deadline.After(lockTimeout);
            RedisWatch? watch = null;
            try
            {
                while (true)
                {
                    Enter();
                    watch?.Reset();
                    RedisResult[] r = (RedisResult[])Owner.Call(Name, () => Owner.Db.ScriptEvaluate(RedisScripts.Write, Keys.All, new RedisValue[]
                    {
                        _id, data, (int)contentType, ifVersion ?? -1, append ? 1 : 0, RedisSharedMemoryStore.ProcessId, RedisSharedMemoryStore.HostName,
                        RedisSharedMemoryStore.NowUnixMs(), HeldToken, Keys.Channel.ToString(),
                    }))!;
                    switch ((string?)r[0])
                    {
                        case "ok":
                            return (long)r[1];
                        case "removed":
                            throw Gone();
                        case "kind":
                            throw SegmentErrors.WrongKind(Name, SharedMemorySegmentKind.Queue, append ? "appended to" : "written");
                        case "lost":
                            _lost = true;
                            throw LockLost();
                        case "version":
                            throw SegmentErrors.VersionMismatch(Name, ifVersion ?? -1, (long)r[1]);
                        case "type":
                            throw SegmentErrors.ContentTypeMismatch(Name, (SharedMemoryContentType)(long)r[1], contentType);
                        case "large":
                            throw TooLarge((long)r[2], (long)r[1]);
                        case "locked":
                            break;
                        default:
                            throw new InvalidOperationException("Unexpected answer from the write script: " + (string?)r[0]);
                    }

                    if (deadline.HasPassed)
                    {
                        throw LockTimeout(lockTimeout, (string?)r[1]);
                    }

                    SubscribeOrWait(ref watch, deadline, cancellationToken);
                }
            }
            finally
            {
                watch?.Dispose();
            }
        }

        private long WaitFor(Func<long, bool> done, TimeSpan timeout, CancellationToken cancellationToken)
        {
            RedisSharedMemoryStore.CheckTimeout(timeout);
            Enter();
            Deadline deadline = Deadline.After(timeout);
            using var watch = new RedisWatch(Owner, new[] { Keys.Channel });
            while (true)
            {
                watch.Reset();
                if (watch.TryLook(() => Owner.Call(Name, () => Owner.Db.HashGet(Keys.Hash, s_versionFields)), out RedisValue[] fields))
                {
                    if (fields[0] != _id)
                    {
                        throw Gone();
                    }

                    long version = (long)fields[1];
                    if (done(version))
                    {
                        return version;
                    }
                }

                if (deadline.HasPassed)
                {
                    throw SegmentErrors.WaitTimeout(Name, timeout);
                }

                watch.Wait(deadline, cancellationToken);
                Enter();
            }
        }

        private SharedMemoryException Gone() =>
            new SharedMemoryException(SharedMemoryErrorCode.Removed, Name,
                $"Segment '{Name}' is no longer in the Redis store {Owner.Location}: another session removed it, or the server restarted without keeping it. This handle no longer refers to a segment.");

        private SharedMemoryException TooLarge(long length, long size) =>
            size >= RedisSharedMemoryStore.LargestValue
                ? new SharedMemoryException(SharedMemoryErrorCode.PayloadTooLarge, Name,
                    $"A payload of {length.ToString("N0", CultureInfo.InvariantCulture)} bytes is larger than the Redis store takes in one value ({RedisSharedMemoryStore.LargestValue.ToString("N0", CultureInfo.InvariantCulture)} bytes) for segment '{Name}'.")
                : SegmentErrors.PayloadTooLarge(Name, length, size);
    }
}
