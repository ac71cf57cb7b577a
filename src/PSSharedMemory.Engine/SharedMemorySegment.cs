using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// A named block of memory shared by processes on one machine: a header (see
    /// docs/segment-format.md) and a payload of fixed capacity. A segment lives until it is removed or
    /// the machine restarts, whether or not any process has it open.
    /// </summary>
    /// <remarks>
    /// Writers take the cross-process lock and publish through a sequence lock: the sequence is odd while
    /// a write is in progress. Readers copy without any system call and retry when the sequence moved, so
    /// an uncontended read costs one copy, and a reader never returns a half-written payload. A writer
    /// that died mid-write leaves the sequence odd; readers then see <see cref="SharedMemoryErrorCode.InterruptedWrite"/>.
    /// The lock belongs to this handle, not to a thread, and is re-entrant for it. An instance may be
    /// used from several threads, but they share its lock ownership.
    /// </remarks>
    public sealed unsafe class SharedMemorySegment : IDisposable
    {
        /// <summary>Largest capacity accepted: 1 TiB.</summary>
        public const long MaxCapacity = 1L << 40;

        /// <summary>Default wait for the lock inside <see cref="Write(byte[], SharedMemoryContentType)"/>.</summary>
        public static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(30);

        private const int WaitSliceMilliseconds = 200;

        // A read-only mapping cannot count itself as a waiter, so writers do not wake it: it polls this often.
        private const int ReadOnlyPollMilliseconds = 2;
        private const int OptimisticReadAttempts = 64;
        private const long UnixEpochTicks = 621355968000000000L;

        private static readonly int s_processId = Process.GetCurrentProcess().Id;

        private readonly SegmentStore _store;
        private readonly SegmentMapping _mapping;
        private readonly byte* _base;
        private readonly long _capacity;
        private readonly object _lockGate = new object();
        private readonly object _writeGate = new object();
        private int _lockDepth;
        private int _abandonedLockProcessId;
        private int _disposed;

        private SharedMemorySegment(string name, SegmentStore store, SegmentMapping mapping)
        {
            Name = name;
            Scope = store.Scope;
            _store = store;
            _mapping = mapping;
            _base = mapping.Base;
            _capacity = mapping.Length - SegmentLayout.HeaderSize;
        }

        /// <summary>The segment's name.</summary>
        public string Name { get; }

        /// <summary>The namespace the segment lives in.</summary>
        public SharedMemoryScope Scope { get; }

        /// <summary>Payload capacity in bytes, exactly as requested at creation.</summary>
        public long Capacity => _capacity;

        /// <summary>Bytes of payload stored by the last write.</summary>
        public long Length
        {
            get
            {
                using (Enter())
                {
                    return Volatile.Read(ref *(long*)(_base + SegmentLayout.PayloadLengthOffset));
                }
            }
        }

        /// <summary>What the payload holds.</summary>
        public SharedMemoryContentType ContentType
        {
            get
            {
                using (Enter())
                {
                    return (SharedMemoryContentType)Volatile.Read(ref *(int*)(_base + SegmentLayout.ContentTypeOffset));
                }
            }
        }

        /// <summary>The number of completed writes; rises with every write.</summary>
        public long Sequence
        {
            get
            {
                using (Enter())
                {
                    return RawSequence >> 1;
                }
            }
        }

        /// <summary>The process that wrote last, 0 before the first write.</summary>
        public int LastWriterProcessId
        {
            get
            {
                using (Enter())
                {
                    return Volatile.Read(ref *(int*)(_base + SegmentLayout.LastWriterPidOffset));
                }
            }
        }

        /// <summary>The process that created the segment.</summary>
        public int CreatorProcessId
        {
            get
            {
                using (Enter())
                {
                    return *(int*)(_base + SegmentLayout.CreatorPidOffset);
                }
            }
        }

        /// <summary>When the last write completed; the creation time before the first write.</summary>
        public DateTime LastWriteTimeUtc
        {
            get
            {
                using (Enter())
                {
                    return FromUnixNanoseconds(Volatile.Read(ref *(long*)(_base + SegmentLayout.LastWriteTimeOffset)));
                }
            }
        }

        /// <summary>When the segment was created.</summary>
        public DateTime CreationTimeUtc
        {
            get
            {
                using (Enter())
                {
                    return FromUnixNanoseconds(*(long*)(_base + SegmentLayout.CreationTimeOffset));
                }
            }
        }

        /// <summary>True once any process has removed the segment; every operation then fails with Removed.</summary>
        public bool IsRemoved
        {
            get
            {
                using (Enter())
                {
                    return (Flags & SegmentFlags.Removed) != 0;
                }
            }
        }

        /// <summary>True while this handle holds the lock.</summary>
        public bool IsLockHeld
        {
            get
            {
                lock (_lockGate)
                {
                    return _lockDepth > 0;
                }
            }
        }

        /// <summary>
        /// While this handle holds the lock: the id of a process that had held it and ended without
        /// releasing it (the kernel released it; this reports it), or 0 when it was released normally.
        /// 0 whenever this handle does not hold the lock.
        /// </summary>
        public int AbandonedLockProcessId => Volatile.Read(ref _abandonedLockProcessId);

        /// <summary>True after <see cref="Dispose"/>.</summary>
        public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

        /// <summary>
        /// True when this user may read the segment but not write it (its file grants read permission only).
        /// Reads and waits work; writes, the lock and removal fail with <see cref="SharedMemoryErrorCode.ReadOnly"/>.
        /// </summary>
        public bool IsReadOnly => _mapping.IsReadOnly;

        /// <summary>The directory this handle's segment file was opened in.</summary>
        public string StoreDirectory => _store.Directory;

        /// <summary>The directory that holds a scope's segment files (see docs/segment-format.md).</summary>
        public static string GetStoreDirectory(SharedMemoryScope scope = SharedMemoryScope.User) => SegmentStore.For(scope).Directory;

        private long RawSequence => Volatile.Read(ref *(long*)(_base + SegmentLayout.SequenceOffset));

        private SegmentFlags Flags => (SegmentFlags)Volatile.Read(ref *(uint*)(_base + SegmentLayout.FlagsOffset));

        private int* ChangeWord => (int*)(_base + SegmentLayout.ChangeWordOffset);

        private int* ChangeWaiters => (int*)(_base + SegmentLayout.ChangeWaitersOffset);

        private int* LockWord => (int*)(_base + SegmentLayout.LockWordOffset);

        private int* LockWaiters => (int*)(_base + SegmentLayout.LockWaitersOffset);

        /// <summary>Creates a new segment. Fails with AlreadyExists when the name is taken.</summary>
        /// <param name="name">A name that follows <see cref="SegmentName.Rule"/>.</param>
        /// <param name="capacity">Payload capacity in bytes, 1 to <see cref="MaxCapacity"/>. Not rounded.</param>
        /// <param name="options">Scope and permissions; null for the defaults.</param>
        public static SharedMemorySegment Create(string name, long capacity, SharedMemoryOptions? options = null)
        {
            SegmentName.Validate(name);
            options ??= SharedMemoryOptions.Default;
            if (capacity < 1 || capacity > MaxCapacity || (IntPtr.Size == 4 && capacity > int.MaxValue - SegmentLayout.HeaderSize))
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.InvalidSize, name,
                    $"A capacity of {SharedMemoryException.Bytes(capacity)} bytes is not valid for segment '{name}'. Use a size from 1 byte to {SharedMemoryException.Bytes(IntPtr.Size == 4 ? int.MaxValue - SegmentLayout.HeaderSize : MaxCapacity)} bytes.");
            }

            int permissions = options.Permissions ?? (options.Scope == SharedMemoryScope.User ? 0x180 /* 0600 */ : 0x1B0 /* 0660 */);
            if (permissions < 0 || permissions > 0x1FF)
            {
                throw new ArgumentOutOfRangeException(nameof(options), permissions,
                    $"Permissions {Convert.ToString(permissions, 8)} are not valid Unix permission bits; use an octal value from 0 to 0777, such as 0600.");
            }

            SegmentStore store = SegmentStore.For(options.Scope);
            SegmentMapping mapping;
            try
            {
                mapping = store.Create(name, SegmentLayout.HeaderSize + capacity, permissions, m => InitializeHeader(m, capacity, options.Scope));
            }
            catch (NativeException e)
            {
                throw Translate(e, name, store, capacity);
            }

            return new SharedMemorySegment(name, store, mapping);
        }

        /// <summary>Opens an existing segment. Fails with NotFound when there is none.</summary>
        public static SharedMemorySegment Open(string name, SharedMemoryScope scope = SharedMemoryScope.User)
        {
            SegmentName.Validate(name);
            SegmentStore store = SegmentStore.For(scope);
            SegmentMapping mapping;
            try
            {
                mapping = store.Open(name);
            }
            catch (NativeException e)
            {
                throw Translate(e, name, store, 0);
            }

            var segment = new SharedMemorySegment(name, store, mapping);
            try
            {
                segment.ValidateHeader();
                if (segment.IsRemoved)
                {
                    // Caught between another process marking it removed and unlinking it.
                    throw NotFound(name, store);
                }

                return segment;
            }
            catch
            {
                segment.Dispose();
                throw;
            }
        }

        /// <summary>Opens a segment if it exists. Other failures (corruption, permissions) still throw.</summary>
        public static bool TryOpen(string name, out SharedMemorySegment? segment, SharedMemoryScope scope = SharedMemoryScope.User)
        {
            try
            {
                segment = Open(name, scope);
                return true;
            }
            catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.NotFound)
            {
                segment = null;
                return false;
            }
        }

        /// <summary>Opens the segment, or creates it with <paramref name="capacity"/> when it does not exist.</summary>
        public static SharedMemorySegment OpenOrCreate(string name, long capacity, SharedMemoryOptions? options = null)
        {
            SharedMemoryScope scope = (options ?? SharedMemoryOptions.Default).Scope;
            while (true)
            {
                if (TryOpen(name, out SharedMemorySegment? existing, scope))
                {
                    return existing!;
                }

                try
                {
                    return Create(name, capacity, options);
                }
                catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.AlreadyExists)
                {
                    // Another process created it first; open theirs.
                }
            }
        }

        /// <summary>True when a segment of that name exists in the scope.</summary>
        public static bool Exists(string name, SharedMemoryScope scope = SharedMemoryScope.User)
        {
            SegmentName.Validate(name);
            SegmentStore store = SegmentStore.For(scope);
            try
            {
                return store.Exists(name);
            }
            catch (NativeException e)
            {
                throw Translate(e, name, store, 0);
            }
        }

        /// <summary>
        /// Lists the segments of a scope whose names match a wildcard pattern ('*', '?', '[a-z]'),
        /// sorted by name. Segments this user may not open are left out; files that have a segment's name but
        /// are not usable segments (corrupted, shrunk, a symbolic link) are listed with
        /// <see cref="SharedMemorySegmentInfo.Status"/> Damaged, so they can be seen and removed.
        /// </summary>
        public static IReadOnlyList<SharedMemorySegmentInfo> List(string pattern = "*", SharedMemoryScope scope = SharedMemoryScope.User)
        {
            var result = new List<SharedMemorySegmentInfo>();
            SegmentStore store = SegmentStore.For(scope);
            List<string> names;
            try
            {
                names = new List<string>(store.EnumerateNames());
            }
            catch (NativeException e)
            {
                throw Translate(e, pattern, store, 0);
            }

            foreach (string name in names)
            {
                if (!SegmentName.Matches(name, pattern))
                {
                    continue;
                }

                try
                {
                    using SharedMemorySegment segment = Open(name, scope);
                    result.Add(segment.GetInfo());
                }
                catch (SharedMemoryException e) when (IsDamage(e.Code))
                {
                    result.Add(SharedMemorySegmentInfo.Damaged(name, scope, e.Message));
                }
                catch (SharedMemoryException)
                {
                    // Removed meanwhile, or not this user's to read: not a segment to list.
                }
            }

            result.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            return result;
        }

        private static bool IsDamage(SharedMemoryErrorCode code) =>
            code == SharedMemoryErrorCode.Corrupted
            || code == SharedMemoryErrorCode.SymbolicLink
            || code == SharedMemoryErrorCode.WrongFileType
            || code == SharedMemoryErrorCode.WrongOwner;

        /// <summary>
        /// Removes a segment: handles that other processes hold see Removed on their next operation, waiters
        /// wake, and the name is free at once. Returns false when no such segment exists. A corrupted segment
        /// is removed too.
        /// </summary>
        public static bool Remove(string name, SharedMemoryScope scope = SharedMemoryScope.User)
        {
            SegmentName.Validate(name);
            SegmentStore store = SegmentStore.For(scope);
            SegmentMapping? mapping = null;
            try
            {
                mapping = store.OpenForRemoval(name, out bool exists);
                if (!exists)
                {
                    return false;
                }

                if (mapping is not null && mapping.IsReadOnly)
                {
                    throw ReadOnlySegment(name, "removed");
                }

                // Unlink first: if this user may not remove the name, nothing else changes. Then mark the
                // file that was open (not a segment created meanwhile under the same name) as removed.
                if (!store.Unlink(name))
                {
                    return false;
                }

                if (mapping is not null && mapping.CheckIntact() is null && *(ulong*)(mapping.Base + SegmentLayout.MagicOffset) == SegmentLayout.Magic)
                {
                    MarkRemoved(mapping);
                }

                return true;
            }
            catch (NativeException e)
            {
                throw Translate(e, name, store, 0);
            }
            finally
            {
                mapping?.Dispose();
            }
        }

        /// <summary>
        /// True when the segment's name no longer leads to the file this handle has open: another program
        /// deleted or replaced the file without removing the segment properly (for example a cleaner of
        /// temporary files). Such a handle reads and writes a file no one else sees; open the name again.
        /// </summary>
        public bool IsOrphaned()
        {
            using (Enter())
            {
                try
                {
                    return (Flags & SegmentFlags.Removed) != 0 || _store.IsOrphaned(Name, _mapping);
                }
                catch (NativeException e)
                {
                    throw Translate(e, Name, _store, 0);
                }
            }
        }

        /// <summary>A snapshot of the header.</summary>
        public SharedMemorySegmentInfo GetInfo()
        {
            using (Enter())
            {
                return GetInfoEntered();
            }
        }

        private SharedMemorySegmentInfo GetInfoEntered()
        {
            ThrowIfUnusable();
            long sequence = RawSequence;
            return new SharedMemorySegmentInfo(Name, Scope, Capacity, Length, ContentType, sequence >> 1,
                LastWriterProcessId, LastWriteTimeUtc, CreationTimeUtc, CreatorProcessId, IsReadOnly);
        }

        /// <summary>Writes a payload, replacing the previous one. Returns the new <see cref="Sequence"/>.</summary>
        public long Write(byte[] payload, SharedMemoryContentType contentType)
            => Write(payload, 0, payload?.Length ?? 0, contentType, DefaultLockTimeout, CancellationToken.None);

        /// <summary>Writes <paramref name="count"/> bytes of <paramref name="payload"/> from <paramref name="offset"/>.</summary>
        public long Write(byte[] payload, int offset, int count, SharedMemoryContentType contentType, TimeSpan lockTimeout, CancellationToken cancellationToken)
        {
            if (payload is null)
            {
                throw new ArgumentNullException(nameof(payload));
            }

            if (offset < 0 || count < 0 || offset > payload.Length - count)
            {
                throw new ArgumentOutOfRangeException(nameof(count), "offset and count must lie within the payload array.");
            }

            CheckContentType(contentType);
            CheckFits(count);
            fixed (byte* source = payload)
            {
                var copier = new CopyFrom { Source = source + offset, Count = count };
                return WriteCore(contentType, lockTimeout, cancellationToken, ref copier);
            }
        }

        /// <summary>Writes a string as UTF-8 text, encoding it straight into the segment.</summary>
        public long WriteText(string text, TimeSpan lockTimeout, CancellationToken cancellationToken)
            => WriteText(text, SharedMemoryContentType.Text, lockTimeout, cancellationToken);

        /// <summary>
        /// Writes a string encoded as UTF-8 straight into the segment, labelled with <paramref name="contentType"/>
        /// (Text, or CliXml for serialized objects).
        /// </summary>
        public long WriteText(string text, SharedMemoryContentType contentType, TimeSpan lockTimeout, CancellationToken cancellationToken)
        {
            if (text is null)
            {
                throw new ArgumentNullException(nameof(text));
            }

            CheckContentType(contentType);

            // Worst case is 3 bytes per UTF-16 unit; count exactly only when that might not fit.
            long bound = (long)text.Length * 3;
            if (bound > _capacity)
            {
                CheckFits(SharedMemoryContent.Utf8.GetByteCount(text));
            }

            fixed (char* chars = text)
            {
                var encoder = new EncodeFrom { Chars = chars, Count = text.Length };
                return WriteCore(contentType, lockTimeout, cancellationToken, ref encoder);
            }
        }

        /// <summary>Writes a string as UTF-8 text.</summary>
        public long WriteText(string text) => WriteText(text, DefaultLockTimeout, CancellationToken.None);

        /// <summary>Reads a consistent copy of the payload with its content type and sequence.</summary>
        public SharedMemoryContent Read() => Read(DefaultLockTimeout, CancellationToken.None);

        /// <summary>
        /// Reads a consistent copy of the payload. The lock is needed (and waited for, up to
        /// <paramref name="lockTimeout"/>) only when writers keep the reader from a clean copy.
        /// </summary>
        public SharedMemoryContent Read(TimeSpan lockTimeout, CancellationToken cancellationToken)
        {
            var copier = new CopyTo();
            long sequence = ReadCore(lockTimeout, cancellationToken, ref copier);
            return new SharedMemoryContent(copier.Buffer!, copier.ContentType, sequence);
        }

        /// <summary>Reads the payload decoded as UTF-8 text, decoding straight from the segment.</summary>
        public string ReadText(out SharedMemoryContentType contentType, out long sequence)
            => ReadText(DefaultLockTimeout, CancellationToken.None, out contentType, out sequence);

        /// <summary>
        /// Reads the payload decoded as UTF-8 text, decoding straight from the segment. The lock is needed
        /// (and waited for, up to <paramref name="lockTimeout"/>) only when writers keep the reader from a clean copy.
        /// </summary>
        public string ReadText(TimeSpan lockTimeout, CancellationToken cancellationToken, out SharedMemoryContentType contentType, out long sequence)
        {
            var decoder = new DecodeTo();
            sequence = ReadCore(lockTimeout, cancellationToken, ref decoder);
            contentType = decoder.ContentType;
            return decoder.Text;
        }

        /// <summary>
        /// Takes the segment's cross-process lock. It excludes every other handle, in this process or another,
        /// is re-entrant for this handle, and is released by the kernel if the process dies.
        /// </summary>
        /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.</param>
        /// <param name="cancellationToken">Ends the wait with <see cref="OperationCanceledException"/>.</param>
        /// <returns>A token whose Dispose releases one level of the lock.</returns>
        public IDisposable Lock(TimeSpan timeout, CancellationToken cancellationToken)
        {
            AcquireLock(timeout, cancellationToken);
            return new LockRelease(this);
        }

        /// <summary>Takes the lock, waiting at most <paramref name="timeout"/>.</summary>
        public IDisposable Lock(TimeSpan timeout) => Lock(timeout, CancellationToken.None);

        /// <summary>Releases one level of the lock. Fails with NotLocked when this handle does not hold it.</summary>
        public void Unlock() => Unlock(checkFile: true);

        /// <param name="checkFile">
        /// False only within one engine operation that checked the file when it began (a write releasing
        /// the lock it took itself); an Unlock after caller code ran checks again before writing the header.
        /// </param>
        private void Unlock(bool checkFile)
        {
            lock (_lockGate)
            {
                if (_lockDepth == 0)
                {
                    throw new SharedMemoryException(SharedMemoryErrorCode.NotLocked, Name,
                        $"The lock of segment '{Name}' is not held by this session, so there is nothing to unlock. Take it first with Lock-SharedMemory.");
                }

                if (--_lockDepth > 0)
                {
                    return;
                }

                if (IsDisposed)
                {
                    return;
                }

                ReleaseNativeLock(checkFile);
            }
        }

        /// <summary>
        /// Blocks until <see cref="Sequence"/> differs from <paramref name="sinceSequence"/> and returns the new
        /// sequence. Fails with WaitTimeout, Removed, or <see cref="OperationCanceledException"/>.
        /// </summary>
        public long WaitForChange(long sinceSequence, TimeSpan timeout, CancellationToken cancellationToken)
        {
            using (Enter())
            {
                return WaitForChangeEntered(sinceSequence, timeout, cancellationToken);
            }
        }

        private long WaitForChangeEntered(long sinceSequence, TimeSpan timeout, CancellationToken cancellationToken)
        {
            ThrowIfUnusable();
            long deadline = Deadline(timeout);
            CancellationTokenRegistration registration = default;
            if (cancellationToken.CanBeCanceled)
            {
                registration = cancellationToken.Register(() => WakeOnCancel(ChangeWord));
            }

            try
            {
                while (true)
                {
                    CheckIntact();
                    ThrowIfUnusable();
                    cancellationToken.ThrowIfCancellationRequested();
                    long raw = RawSequence;
                    if ((raw & 1) == 0 && (raw >> 1) != sinceSequence)
                    {
                        return raw >> 1;
                    }

                    int remaining = Remaining(deadline);
                    if (remaining == 0)
                    {
                        throw new SharedMemoryException(SharedMemoryErrorCode.WaitTimeout, Name,
                            $"Segment '{Name}' did not change within {FormatTimeout(timeout)}. Wait longer with a larger -Timeout, or check that the writer is running.");
                    }

                    int observed = Volatile.Read(ref *ChangeWord);
                    bool counted = _mapping.CanWaitForWake;
                    if (counted)
                    {
                        Interlocked.Increment(ref *ChangeWaiters);
                    }

                    try
                    {
                        raw = RawSequence;
                        if (((raw & 1) != 0 || (raw >> 1) == sinceSequence) && (Flags & SegmentFlags.Removed) == 0 && !cancellationToken.IsCancellationRequested)
                        {
                            _mapping.Wait(ChangeWord, observed, Math.Min(remaining, counted ? WaitSliceMilliseconds : ReadOnlyPollMilliseconds));
                        }
                    }
                    catch (NativeException e) when (e.ErrorCode == Libc.EFAULT)
                    {
                        // The file was cut under the wait; the check at the top of the loop says so.
                    }
                    finally
                    {
                        if (counted && _mapping.CheckIntact() is null)
                        {
                            Interlocked.Decrement(ref *ChangeWaiters);
                        }
                    }
                }
            }
            finally
            {
                registration.Dispose();
            }
        }

        /// <summary>Unmaps the segment and closes its file. Releases the lock if this handle holds it.</summary>
        public void Dispose()
        {
            lock (_lockGate)
            {
                if (Interlocked.Exchange(ref _disposed, 1) != 0)
                {
                    return;
                }

                if (_lockDepth > 0)
                {
                    _lockDepth = 0;
                    try
                    {
                        ReleaseNativeLock(checkFile: true);
                    }
                    catch (NativeException)
                    {
                        // Closing the file below releases it anyway.
                    }
                }

                // Waiters on other threads notice the closed handle at once; the mapping itself stays
                // until the last operation in flight ends (see Enter).
                try
                {
                    _mapping.WakeAll(ChangeWord);
                    _mapping.WakeAll(LockWord);
                }
                catch (NativeException)
                {
                    // The file was cut under the mapping (EFAULT); there is no one to wake through it.
                }

                _mapping.Dispose();
            }
        }

        /// <summary>Test hook: starts a write and calls <paramref name="midWrite"/> with the sequence odd.</summary>
        internal void WriteWithPause(byte[] payload, Action midWrite)
        {
            fixed (byte* source = payload)
            {
                var pausing = new PausingCopy { Source = source, Count = payload.Length, MidWrite = midWrite };
                WriteCore(SharedMemoryContentType.Bytes, DefaultLockTimeout, CancellationToken.None, ref pausing);
            }
        }

        internal SegmentMapping Mapping => _mapping;

        private Lease Enter()
        {
            if (IsDisposed)
            {
                throw new ObjectDisposedException(nameof(SharedMemorySegment), $"The handle to segment '{Name}' was closed.");
            }

            _mapping.AddRef();
            try
            {
                CheckIntact();
            }
            catch
            {
                _mapping.Release();
                throw;
            }

            return new Lease(_mapping);
        }

        /// <summary>
        /// Fails with Corrupted when the file no longer backs the whole mapping (someone shrank it), instead
        /// of letting the next access fault. One fstat; a truncation after it and before the access can still
        /// fault, which .NET cannot catch (see "Trust model" in docs/segment-format.md).
        /// </summary>
        private void CheckIntact()
        {
            string? damage;
            try
            {
                damage = _mapping.CheckIntact();
            }
            catch (NativeException e)
            {
                throw Translate(e, Name, _store, _capacity);
            }

            if (damage is not null)
            {
                throw Corrupted(damage);
            }
        }

        /// <summary>Keeps the mapping alive for the length of one operation.</summary>
        private readonly struct Lease : IDisposable
        {
            private readonly SegmentMapping _mapping;

            public Lease(SegmentMapping mapping) => _mapping = mapping;

            public void Dispose() => _mapping.Release();
        }

        // Writers and readers are structs behind generic constraints, so the hot path allocates nothing.
        private interface IPayloadWriter
        {
            long WriteTo(byte* destination, long room);
        }

        private interface IPayloadReader
        {
            void ReadFrom(byte* source, long length, SharedMemoryContentType contentType);
        }

        private struct CopyFrom : IPayloadWriter
        {
            public byte* Source;
            public int Count;

            public long WriteTo(byte* destination, long room)
            {
                Buffer.MemoryCopy(Source, destination, room, Count);
                return Count;
            }
        }

        private struct EncodeFrom : IPayloadWriter
        {
            public char* Chars;
            public int Count;

            public long WriteTo(byte* destination, long room) =>
                Count == 0 ? 0 : SharedMemoryContent.Utf8.GetBytes(Chars, Count, destination, (int)Math.Min(room, int.MaxValue));
        }

        private struct PausingCopy : IPayloadWriter
        {
            public byte* Source;
            public int Count;
            public Action MidWrite;

            public long WriteTo(byte* destination, long room)
            {
                Buffer.MemoryCopy(Source, destination, room, Count / 2);
                MidWrite();
                return Count;
            }
        }

        private struct CopyTo : IPayloadReader
        {
            public byte[]? Buffer;
            public SharedMemoryContentType ContentType;

            public void ReadFrom(byte* source, long length, SharedMemoryContentType contentType)
            {
                if (Buffer is null || Buffer.LongLength != length)
                {
                    Buffer = length == 0 ? Array.Empty<byte>() : new byte[length];
                }

                fixed (byte* destination = Buffer)
                {
                    System.Buffer.MemoryCopy(source, destination, length, length);
                }

                ContentType = contentType;
            }
        }

        private struct DecodeTo : IPayloadReader
        {
            public string Text;
            public SharedMemoryContentType ContentType;

            public void ReadFrom(byte* source, long length, SharedMemoryContentType contentType)
            {
                Text = length == 0 ? string.Empty : SharedMemoryContent.Utf8.GetString(source, (int)length);
                ContentType = contentType;
            }
        }

        private long WriteCore<TWriter>(SharedMemoryContentType contentType, TimeSpan lockTimeout, CancellationToken cancellationToken, ref TWriter writePayload)
            where TWriter : struct, IPayloadWriter
        {
            using (Enter())
            {
                return WriteCoreEntered(contentType, lockTimeout, cancellationToken, ref writePayload);
            }
        }

        private long WriteCoreEntered<TWriter>(SharedMemoryContentType contentType, TimeSpan lockTimeout, CancellationToken cancellationToken, ref TWriter writePayload)
            where TWriter : struct, IPayloadWriter
        {
            AcquireLockEntered(lockTimeout, cancellationToken);
            try
            {
                lock (_writeGate)
                {
                    ThrowIfUnusable();
                    ref long sequence = ref *(long*)(_base + SegmentLayout.SequenceOffset);
                    long before = Volatile.Read(ref sequence);

                    // Odd: a write in progress. After an interrupted write it is already odd; keep it odd and rising.
                    long writing = (before & 1) == 0 ? before + 1 : before + 2;
                    Volatile.Write(ref sequence, writing);
                    Interlocked.MemoryBarrier();

                    // Callers have checked that the payload fits, so this cannot fail half-way.
                    long written = writePayload.WriteTo(_base + SegmentLayout.HeaderSize, _capacity);
                    *(long*)(_base + SegmentLayout.PayloadLengthOffset) = written;
                    *(int*)(_base + SegmentLayout.ContentTypeOffset) = (int)contentType;
                    *(int*)(_base + SegmentLayout.LastWriterPidOffset) = s_processId;
                    *(long*)(_base + SegmentLayout.LastWriteTimeOffset) = ToUnixNanoseconds(DateTime.UtcNow);

                    Volatile.Write(ref sequence, writing + 1);
                    Interlocked.Increment(ref *ChangeWord);
                    if (Volatile.Read(ref *ChangeWaiters) > 0)
                    {
                        _mapping.WakeAll(ChangeWord);
                    }

                    return (writing + 1) >> 1;
                }
            }
            finally
            {
                Unlock(checkFile: false);
            }
        }

        private long ReadCore<TReader>(TimeSpan lockTimeout, CancellationToken cancellationToken, ref TReader readPayload)
            where TReader : struct, IPayloadReader
        {
            using (Enter())
            {
                return ReadCoreEntered(lockTimeout, cancellationToken, ref readPayload);
            }
        }

        private long ReadCoreEntered<TReader>(TimeSpan lockTimeout, CancellationToken cancellationToken, ref TReader readPayload)
            where TReader : struct, IPayloadReader
        {
            ThrowIfUnusable();

            // Another process may have damaged the header since it was opened; a few loads catch that.
            if (*(ulong*)(_base + SegmentLayout.MagicOffset) != SegmentLayout.Magic
                || *(long*)(_base + SegmentLayout.CapacityOffset) != _capacity
                || *(uint*)(_base + SegmentLayout.LayoutVersionOffset) != (SegmentLayout.LayoutVersion | ((uint)SegmentLayout.HeaderSize << 16))
                || (Volatile.Read(ref *(uint*)(_base + SegmentLayout.FlagsOffset)) & ~SegmentLayout.KnownFlags) != 0)
            {
                ValidateHeader();
            }
            ref long sequence = ref *(long*)(_base + SegmentLayout.SequenceOffset);
            var spinner = new SpinWait();
            for (int attempt = 0; attempt < OptimisticReadAttempts; attempt++)
            {
                long before = Volatile.Read(ref sequence);
                if ((before & 1) == 0)
                {
                    long length = Volatile.Read(ref *(long*)(_base + SegmentLayout.PayloadLengthOffset));
                    uint type = Volatile.Read(ref *(uint*)(_base + SegmentLayout.ContentTypeOffset));
                    bool plausible = length >= 0 && length <= _capacity && type <= SegmentLayout.MaxContentType;
                    if (plausible)
                    {
                        readPayload.ReadFrom(_base + SegmentLayout.HeaderSize, length, (SharedMemoryContentType)type);
                    }

                    Interlocked.MemoryBarrier();
                    if (Volatile.Read(ref sequence) == before)
                    {
                        if (!plausible)
                        {
                            throw Corrupted($"its payload length ({length}) or content type ({type}) is out of range");
                        }

                        ThrowIfUnusable();
                        return before >> 1;
                    }
                }

                spinner.SpinOnce();
            }

            // Writers kept moving, or one is mid-write (or died mid-write): read under the lock, and
            // after any write in progress on this same handle from another thread.
            if (_mapping.IsReadOnly)
            {
                // A read-only handle cannot record itself as the lock's owner; it only holds the file lock.
                AcquireFileLockReadOnly(lockTimeout, cancellationToken);
                try
                {
                    lock (_writeGate)
                    {
                        return ReadUnderLock(ref sequence, ref readPayload);
                    }
                }
                finally
                {
                    _mapping.Unlock();
                }
            }

            AcquireLockEntered(lockTimeout, cancellationToken);
            try
            {
                lock (_writeGate)
                {
                    return ReadUnderLock(ref sequence, ref readPayload);
                }
            }
            finally
            {
                Unlock(checkFile: false);
            }
        }

        private long ReadUnderLock<TReader>(ref long sequence, ref TReader readPayload)
            where TReader : struct, IPayloadReader
        {
            CheckIntact();
            ThrowIfUnusable();
            long current = Volatile.Read(ref sequence);
            if ((current & 1) != 0)
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.InterruptedWrite, Name,
                    $"The last write to segment '{Name}' was interrupted (its writer stopped mid-write), so the payload is not valid. Write the segment again; the next complete write clears this.");
            }

            long length = *(long*)(_base + SegmentLayout.PayloadLengthOffset);
            uint type = *(uint*)(_base + SegmentLayout.ContentTypeOffset);
            if (length < 0 || length > _capacity || type > SegmentLayout.MaxContentType)
            {
                throw Corrupted($"its payload length ({length}) or content type ({type}) is out of range");
            }

            readPayload.ReadFrom(_base + SegmentLayout.HeaderSize, length, (SharedMemoryContentType)type);
            return current >> 1;
        }

        private void AcquireFileLockReadOnly(TimeSpan timeout, CancellationToken cancellationToken)
        {
            long deadline = Deadline(timeout);
            try
            {
                while (!_mapping.TryLock())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int remaining = Remaining(deadline);
                    if (remaining == 0)
                    {
                        throw new SharedMemoryException(SharedMemoryErrorCode.LockTimeout, Name,
                            $"Segment '{Name}' was being written for longer than {FormatTimeout(timeout)}, so no consistent copy could be read. Try again, or wait longer.");
                    }

                    CheckIntact();
                    _mapping.Wait(LockWord, Volatile.Read(ref *LockWord), Math.Min(remaining, ReadOnlyPollMilliseconds));
                }
            }
            catch (NativeException e)
            {
                throw Translate(e, Name, _store, 0);
            }
        }

        private void AcquireLock(TimeSpan timeout, CancellationToken cancellationToken)
        {
            using (Enter())
            {
                AcquireLockEntered(timeout, cancellationToken);
            }
        }

        private void AcquireLockEntered(TimeSpan timeout, CancellationToken cancellationToken)
        {
            ThrowIfUnusable();
            if (_mapping.IsReadOnly)
            {
                throw ReadOnlySegment(Name, "locked or written");
            }

            lock (_lockGate)
            {
                if (_lockDepth > 0)
                {
                    _lockDepth++;
                    return;
                }
            }

            long deadline = Deadline(timeout);
            CancellationTokenRegistration registration = default;
            bool waited = false;
            try
            {
                while (true)
                {
                    if (waited)
                    {
                        // Time passed since the caller's check; the file may have been cut meanwhile.
                        CheckIntact();
                    }

                    waited = true;
                    lock (_lockGate)
                    {
                        ThrowIfUnusable();
                        if (_lockDepth > 0)
                        {
                            _lockDepth++;
                            return;
                        }

                        if (_mapping.TryLock())
                        {
                            TakeOwnership();
                            return;
                        }
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    int remaining = Remaining(deadline);
                    if (remaining == 0)
                    {
                        throw new SharedMemoryException(SharedMemoryErrorCode.LockTimeout, Name,
                            $"The lock of segment '{Name}' is held by another session and was not released within {FormatTimeout(timeout)}. Wait longer with a larger -Timeout, or release it in the session that holds it with Unlock-SharedMemory.");
                    }

                    if (cancellationToken.CanBeCanceled && registration == default)
                    {
                        registration = cancellationToken.Register(() => WakeOnCancel(LockWord));
                    }

                    // Sleep until an unlock bumps the word. A holder that dies bumps nothing, so wait in slices.
                    int observed = Volatile.Read(ref *LockWord);
                    Interlocked.Increment(ref *LockWaiters);
                    try
                    {
                        lock (_lockGate)
                        {
                            if (_mapping.TryLock())
                            {
                                TakeOwnership();
                                return;
                            }
                        }

                        if (!cancellationToken.IsCancellationRequested)
                        {
                            _mapping.Wait(LockWord, observed, Math.Min(remaining, 50));
                        }
                    }
                    catch (NativeException e) when (e.ErrorCode == Libc.EFAULT)
                    {
                        // The file was cut under the wait; the check at the top of the loop says so.
                    }
                    finally
                    {
                        if (_mapping.CheckIntact() is null)
                        {
                            Interlocked.Decrement(ref *LockWaiters);
                        }
                    }
                }
            }
            catch (NativeException e)
            {
                throw Translate(e, Name, _store, 0);
            }
            finally
            {
                registration.Dispose();
            }
        }

        // Called with the native lock just acquired and _lockGate held.
        private void TakeOwnership()
        {
            int* owner = (int*)(_base + SegmentLayout.LockOwnerPidOffset);
            Volatile.Write(ref _abandonedLockProcessId, *owner);
            *owner = s_processId;
            _lockDepth = 1;
        }

        private void ReleaseNativeLock(bool checkFile)
        {
            Volatile.Write(ref _abandonedLockProcessId, 0);
            bool intact = !checkFile || _mapping.CheckIntact() is null;
            if (intact)
            {
                *(int*)(_base + SegmentLayout.LockOwnerPidOffset) = 0;
            }

            _mapping.Unlock();
            if (intact)
            {
                Interlocked.Increment(ref *LockWord);
                if (Volatile.Read(ref *LockWaiters) > 0)
                {
                    _mapping.WakeAll(LockWord);
                }
            }
        }

        private void WakeOnCancel(int* word)
        {
            lock (_lockGate)
            {
                if (!IsDisposed)
                {
                    try
                    {
                        _mapping.WakeAll(word);
                    }
                    catch (NativeException)
                    {
                        // The file was cut (EFAULT); the waiter's own slice ends the wait.
                    }
                }
            }
        }

        private void ValidateHeader()
        {
            if (*(ulong*)(_base + SegmentLayout.MagicOffset) != SegmentLayout.Magic)
            {
                throw Corrupted("its header does not start with the PSSharedMemory magic number");
            }

            ushort version = *(ushort*)(_base + SegmentLayout.LayoutVersionOffset);
            if (version != SegmentLayout.LayoutVersion)
            {
                throw Corrupted($"its layout version is {version}, and this version of PSSharedMemory reads only version {SegmentLayout.LayoutVersion}");
            }

            ushort headerSize = *(ushort*)(_base + SegmentLayout.HeaderSizeOffset);
            if (headerSize != SegmentLayout.HeaderSize)
            {
                throw Corrupted($"its header size is {headerSize}, not {SegmentLayout.HeaderSize}");
            }

            long capacity = *(long*)(_base + SegmentLayout.CapacityOffset);
            if (capacity != _capacity)
            {
                throw Corrupted($"its header says the capacity is {capacity} bytes but the file holds {_capacity}");
            }

            uint flags = *(uint*)(_base + SegmentLayout.FlagsOffset);
            if ((flags & ~SegmentLayout.KnownFlags) != 0)
            {
                throw Corrupted($"its flags (0x{flags:x}) include bits this version does not know");
            }

            long length = *(long*)(_base + SegmentLayout.PayloadLengthOffset);
            uint type = *(uint*)(_base + SegmentLayout.ContentTypeOffset);
            if (length < 0 || length > _capacity || type > SegmentLayout.MaxContentType)
            {
                throw Corrupted($"its payload length ({length}) or content type ({type}) is out of range");
            }
        }

        private static void InitializeHeader(SegmentMapping mapping, long capacity, SharedMemoryScope scope)
        {
            byte* header = mapping.Base;
            long now = ToUnixNanoseconds(DateTime.UtcNow);
            *(ulong*)(header + SegmentLayout.MagicOffset) = SegmentLayout.Magic;
            *(ushort*)(header + SegmentLayout.LayoutVersionOffset) = SegmentLayout.LayoutVersion;
            *(ushort*)(header + SegmentLayout.HeaderSizeOffset) = SegmentLayout.HeaderSize;
            *(uint*)(header + SegmentLayout.FlagsOffset) = (uint)(scope == SharedMemoryScope.Global ? SegmentFlags.Global : SegmentFlags.None);
            *(long*)(header + SegmentLayout.CapacityOffset) = capacity;
            *(long*)(header + SegmentLayout.CreationTimeOffset) = now;
            *(long*)(header + SegmentLayout.LastWriteTimeOffset) = now;
            *(int*)(header + SegmentLayout.CreatorPidOffset) = s_processId;
        }

        private static void MarkRemoved(SegmentMapping mapping)
        {
            byte* header = mapping.Base;
            ref int flags = ref *(int*)(header + SegmentLayout.FlagsOffset);
            int seen;
            do
            {
                seen = Volatile.Read(ref flags);
            }
            while (Interlocked.CompareExchange(ref flags, seen | (int)SegmentFlags.Removed, seen) != seen);

            Interlocked.Increment(ref *(int*)(header + SegmentLayout.ChangeWordOffset));
            Interlocked.Increment(ref *(int*)(header + SegmentLayout.LockWordOffset));
            mapping.WakeAll((int*)(header + SegmentLayout.ChangeWordOffset));
            mapping.WakeAll((int*)(header + SegmentLayout.LockWordOffset));
        }

        // Callers hold a lease from Enter().
        private void ThrowIfUnusable()
        {
            if (IsDisposed)
            {
                throw new ObjectDisposedException(nameof(SharedMemorySegment), $"The handle to segment '{Name}' was closed.");
            }

            if ((Flags & SegmentFlags.Removed) != 0)
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.Removed, Name,
                    $"Segment '{Name}' was removed by another session. Create it again with New-SharedMemory, or open the new one if it was re-created.");
            }
        }

        private void CheckFits(long length)
        {
            if (length > _capacity)
            {
                throw PayloadTooLarge(length);
            }
        }

        private SharedMemoryException PayloadTooLarge(long length) =>
            new SharedMemoryException(SharedMemoryErrorCode.PayloadTooLarge, Name,
                $"A payload of {SharedMemoryException.Bytes(length)} bytes does not fit segment '{Name}' of capacity {SharedMemoryException.Bytes(_capacity)} bytes; create it larger with New-SharedMemory -Size, after Remove-SharedMemory.");

        private static SharedMemoryException ReadOnlySegment(string name, string action) =>
            new SharedMemoryException(SharedMemoryErrorCode.ReadOnly, name,
                $"Segment '{name}' is read-only for you: its permissions let you read it but not write to it, so it cannot be {action} by you. Ask its owner for write permission.");

        private SharedMemoryException Corrupted(string why) =>
            new SharedMemoryException(SharedMemoryErrorCode.Corrupted, Name,
                $"Segment '{Name}' is corrupted: {why}. Remove it with Remove-SharedMemory and create it again.");

        private static void CheckContentType(SharedMemoryContentType contentType)
        {
            if ((uint)contentType > SegmentLayout.MaxContentType)
            {
                throw new ArgumentOutOfRangeException(nameof(contentType), contentType, "Unknown content type.");
            }
        }

        private static SharedMemoryException NotFound(string name, SegmentStore store) =>
            new SharedMemoryException(SharedMemoryErrorCode.NotFound, name,
                $"No shared memory segment named '{name}' exists{(store.Scope == SharedMemoryScope.Global ? " in the global scope" : string.Empty)}. Create it with New-SharedMemory, or list the existing ones with Get-SharedMemory.");

        private static SharedMemoryException Translate(NativeException e, string name, SegmentStore store, long capacity)
        {
            int errno = e.ErrorCode;
            if (errno == Libc.ENOENT)
            {
                return NotFound(name, store);
            }

            if (errno == Libc.EEXIST)
            {
                return new SharedMemoryException(SharedMemoryErrorCode.AlreadyExists, name,
                    $"A shared memory segment named '{name}' already exists. Open it by name, or remove it first with Remove-SharedMemory.",
                    e.Function, errno, e);
            }

            if ((errno == Libc.EACCES || errno == Libc.EPERM) && (e.Function == "unlink" || e.Function == "unlinkat"))
            {
                return new SharedMemoryException(SharedMemoryErrorCode.PermissionDenied, name,
                    $"You may not remove segment '{name}' ({e.Function}, error {errno}): it belongs to another user. Ask its owner to remove it; it was left as it was.",
                    e.Function, errno, e);
            }

            if (errno == Libc.ELOOP)
            {
                return new SharedMemoryException(SharedMemoryErrorCode.SymbolicLink, name,
                    $"Segment '{name}' or its store is a symbolic link, which is never followed ({e.Function}, error {errno}). Remove the link.",
                    e.Function, errno, e);
            }

            if (errno == Libc.EACCES || errno == Libc.EPERM)
            {
                return new SharedMemoryException(SharedMemoryErrorCode.PermissionDenied, name,
                    $"Access to segment '{name}' was denied ({e.Function}, error {errno}). Segments of other users cannot be opened; for sharing between users create the segment with the global scope and suitable permissions.",
                    e.Function, errno, e);
            }

            if (errno == Libc.ENOSPC || errno == Libc.EDQUOT)
            {
                return new SharedMemoryException(SharedMemoryErrorCode.OutOfSpace, name,
                    $"There is no room for segment '{name}' of {SharedMemoryException.Bytes(capacity)} bytes in '{store.Directory}' ({e.Function} failed with error {errno}). Remove segments you no longer need, or create a smaller one.",
                    e.Function, errno, e);
            }

            return new SharedMemoryException(SharedMemoryErrorCode.NativeError, name,
                $"Segment '{name}': {e.Message}", e.Function, errno, e);
        }

        private static long Deadline(TimeSpan timeout)
        {
            if (timeout == Timeout.InfiniteTimeSpan)
            {
                return long.MaxValue;
            }

            if (timeout < TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be zero or more, or infinite.");
            }

            return Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        }

        private static int Remaining(long deadline)
        {
            if (deadline == long.MaxValue)
            {
                return int.MaxValue;
            }

            long ticks = deadline - Stopwatch.GetTimestamp();
            if (ticks <= 0)
            {
                return 0;
            }

            return (int)Math.Min(int.MaxValue, Math.Max(1, ticks * 1000 / Stopwatch.Frequency));
        }

        private static string FormatTimeout(TimeSpan timeout) =>
            timeout == Timeout.InfiniteTimeSpan ? "an unlimited time" : timeout.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + " seconds";

        private static long ToUnixNanoseconds(DateTime utc) => (utc.Ticks - UnixEpochTicks) * 100;

        private static DateTime FromUnixNanoseconds(long nanoseconds)
        {
            long ticks = nanoseconds / 100 + UnixEpochTicks;
            return ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks
                ? DateTime.MinValue
                : new DateTime(ticks, DateTimeKind.Utc);
        }

        private sealed class LockRelease : IDisposable
        {
            private SharedMemorySegment? _segment;

            public LockRelease(SharedMemorySegment segment) => _segment = segment;

            public void Dispose() => Interlocked.Exchange(ref _segment, null)?.Unlock();
        }
    }
}
