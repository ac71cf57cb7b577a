using System;
using System.Collections.Generic;
using System.Threading;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// An open handle to one segment, in whichever store holds it: what a host needs to write, read, lock,
    /// wait on, and send to and receive from a segment. <see cref="SharedMemorySegment"/> is the local store's
    /// handle; other stores (such as a Redis server) give their own. The lock belongs to the handle, not to a
    /// thread, and is re-entrant for it.
    /// </summary>
    public interface ISharedMemorySegment : IDisposable
    {
        /// <summary>The segment's name.</summary>
        string Name { get; }

        /// <summary>The namespace the segment lives in.</summary>
        SharedMemoryScope Scope { get; }

        /// <summary>The store that holds the segment.</summary>
        ISharedMemoryStore Store { get; }

        /// <summary>The payload's size in bytes now (a growable segment's current one); a queue's room for messages.</summary>
        long Size { get; }

        /// <summary>What the segment holds: one value, or a queue of messages.</summary>
        SharedMemorySegmentKind Kind { get; }

        /// <summary>What the payload holds.</summary>
        SharedMemoryContentType ContentType { get; }

        /// <summary>The number of completed writes (for a queue: of messages sent).</summary>
        long Version { get; }

        /// <summary>True while this handle holds the lock.</summary>
        bool IsLockHeld { get; }

        /// <summary>True after <see cref="IDisposable.Dispose"/>.</summary>
        bool IsDisposed { get; }

        /// <summary>True once the segment was removed; every operation then fails with Removed.</summary>
        bool IsRemoved { get; }

        /// <summary>True when the segment's name no longer leads to what this handle has open; open the name again.</summary>
        bool IsOrphaned();

        /// <summary>The segment's state from one moment, as listed.</summary>
        SharedMemorySegmentInfo GetInfo();

        /// <summary>Takes the segment's lock; the returned token's Dispose releases one level.</summary>
        IDisposable Lock(TimeSpan timeout, CancellationToken cancellationToken);

        /// <summary>Releases one level of the lock. Fails with NotLocked when this handle does not hold it.</summary>
        void Unlock();

        /// <summary>The process id of a lock holder that ended without releasing the lock, once; 0 when none.</summary>
        int TakeAbandonedLockReport();

        /// <summary>Blocks until the version differs from <paramref name="sinceVersion"/>; returns it.</summary>
        long WaitForChange(long sinceVersion, TimeSpan timeout, CancellationToken cancellationToken);

        /// <summary>Blocks until the version is greater than <paramref name="newerThan"/>; returns it.</summary>
        long WaitForVersion(long newerThan, TimeSpan timeout, CancellationToken cancellationToken);

        /// <summary>Replaces the payload with <paramref name="count"/> bytes of <paramref name="payload"/>; returns the new version.</summary>
        long Write(byte[] payload, int offset, int count, SharedMemoryContentType contentType, TimeSpan lockTimeout, CancellationToken cancellationToken);

        /// <summary>Writes as <paramref name="options"/> say (conditional, appended); returns the new version.</summary>
        long Write(byte[] payload, int offset, int count, SharedMemoryContentType contentType, SharedMemoryWriteOptions options);

        /// <summary>Replaces the payload with a string encoded as UTF-8; returns the new version.</summary>
        long WriteText(string text, SharedMemoryContentType contentType, TimeSpan lockTimeout, CancellationToken cancellationToken);

        /// <summary>Writes a string encoded as UTF-8 as <paramref name="options"/> say; returns the new version.</summary>
        long WriteText(string text, SharedMemoryContentType contentType, SharedMemoryWriteOptions options);

        /// <summary>A consistent copy of the payload with its content type and version.</summary>
        SharedMemoryContent Read(TimeSpan lockTimeout, CancellationToken cancellationToken);

        /// <summary>
        /// Reads the payload as its content type calls for, in one consistent read: Text and CliXml as a
        /// string in <paramref name="text"/>, Bytes as a new array in <paramref name="bytes"/>.
        /// </summary>
        SharedMemoryContentType ReadAsStored(TimeSpan lockTimeout, CancellationToken cancellationToken, out string? text, out byte[]? bytes, out long version);

        /// <summary>The payload decoded as UTF-8, with its content type and version from the same moment.</summary>
        string ReadText(TimeSpan lockTimeout, CancellationToken cancellationToken, out SharedMemoryContentType contentType, out long version);

        /// <summary>Sends one message to a queue, waiting up to <paramref name="timeout"/> for room; returns its version.</summary>
        long Send(byte[] payload, int offset, int count, SharedMemoryContentType contentType, TimeSpan timeout, CancellationToken cancellationToken);

        /// <summary>Sends a string, encoded as UTF-8, as one message; returns its version.</summary>
        long SendText(string text, SharedMemoryContentType contentType, TimeSpan timeout, CancellationToken cancellationToken);

        /// <summary>Takes up to <paramref name="max"/> messages, oldest first; each is taken by one receiver only.</summary>
        IReadOnlyList<SharedMemoryContent> Receive(int max, TimeSpan timeout, CancellationToken cancellationToken);

        /// <summary>Copies up to <paramref name="max"/> of the oldest messages without taking them.</summary>
        IReadOnlyList<SharedMemoryContent> Peek(int max, TimeSpan timeout, CancellationToken cancellationToken);
    }
}
