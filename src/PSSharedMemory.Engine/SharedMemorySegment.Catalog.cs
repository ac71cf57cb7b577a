using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Threading;

namespace PSSharedMemory.Engine
{
    /// <content>Segments by name: where they live, and creating, opening, waiting for, listing and removing them.</content>
    public sealed partial class SharedMemorySegment
    {
        /// <summary>The directory that holds a scope's segment files (see docs/segment-format.md).</summary>
        public static string GetStoreDirectory(SharedMemoryScope scope = SharedMemoryScope.User) => SegmentStore.For(scope).Directory;

        /// <summary>
        /// The size a growable segment takes to hold <paramref name="payloadLength"/> bytes, at creation and at
        /// each grow: a quarter more than the payload, at least 4 KiB, at most <see cref="MaxSize"/>.
        /// </summary>
        public static long GrowableSizeFor(long payloadLength) => SegmentView.GrowthFor(Math.Max(payloadLength, 1), SegmentCatalog.LargestSize);

        /// <summary>Creates a new segment. Fails with AlreadyExists when the name is taken.</summary>
        /// <param name="name">A name that follows <see cref="SegmentName.Rule"/>.</param>
        /// <param name="size">Payload size in bytes, 1 to <see cref="MaxSize"/>. Not rounded.</param>
        /// <param name="options">Scope and permissions; null for the defaults.</param>
        public static SharedMemorySegment Create(string name, long size, SharedMemoryOptions? options = null) =>
            SegmentCatalog.Create(name, size, options);

        /// <summary>Opens an existing segment. Fails with NotFound when there is none.</summary>
        public static SharedMemorySegment Open(string name, SharedMemoryScope scope = SharedMemoryScope.User) =>
            SegmentCatalog.Open(name, scope);

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

        /// <summary>Opens the segment, or creates it with <paramref name="size"/> when it does not exist.</summary>
        public static SharedMemorySegment OpenOrCreate(string name, long size, SharedMemoryOptions? options = null) =>
            SegmentCatalog.OpenOrCreate(name, size, options, out _);

        /// <summary>Opens the segment, or creates it; <paramref name="created"/> says which happened.</summary>
        public static SharedMemorySegment OpenOrCreate(string name, long size, SharedMemoryOptions? options, out bool created) =>
            SegmentCatalog.OpenOrCreate(name, size, options, out created);

        /// <summary>
        /// Opens a segment, first waiting for another process to create it if it does not exist yet: returns at
        /// once when it exists, otherwise as soon as it is published. The wait does not poll where the OS can
        /// tell of new files: it watches the store directory (inotify on Linux, a directory watcher on Windows),
        /// and looks again at least every half second in case a notice was missed. It never creates the store:
        /// Linux watches the store's parent until the store appears, Windows looks for it every 20 ms. macOS,
        /// which gives no notice, polls every 20 ms.
        /// </summary>
        /// <remarks>
        /// A segment just created has <see cref="Version"/> 0 until its first write. To wait for that write too,
        /// call <see cref="WaitForVersion"/> with 0 on the result, with what is left of the timeout. A name
        /// that exists but is not a usable segment fails as <see cref="Open"/> does (Corrupted, PermissionDenied,
        /// an untrusted store), at once.
        /// </remarks>
        /// <param name="name">A name that follows <see cref="SegmentName.Rule"/>.</param>
        /// <param name="scope">The namespace to watch.</param>
        /// <param name="timeout">How long to wait for the creation; <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.</param>
        /// <param name="cancellationToken">Ends the wait with <see cref="OperationCanceledException"/>.</param>
        /// <returns>The open segment, which the caller disposes.</returns>
        /// <exception cref="SharedMemoryException">WaitTimeout when no segment of that name was created in time; InvalidName.</exception>
        /// <exception cref="ArgumentOutOfRangeException">A negative timeout other than <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
        public static SharedMemorySegment WaitForCreation(string name, SharedMemoryScope scope, TimeSpan timeout, CancellationToken cancellationToken) =>
            SegmentCatalog.WaitForCreation(name, scope, timeout, cancellationToken);

        /// <summary>True when something has the segment's name in the scope, usable or not.</summary>
        public static bool Exists(string name, SharedMemoryScope scope = SharedMemoryScope.User) =>
            SegmentCatalog.Exists(name, scope);

        /// <summary>
        /// Lists the segments of a scope whose names match a wildcard pattern ('*', '?', '[a-z]'), sorted by
        /// name. Segments this user may not open are left out; files that have a segment's name but are not
        /// usable segments are listed with <see cref="SharedMemorySegmentInfo.Status"/> Damaged.
        /// </summary>
        public static IReadOnlyList<SharedMemorySegmentInfo> List(string pattern = "*", SharedMemoryScope scope = SharedMemoryScope.User) =>
            SegmentCatalog.List(pattern, scope);

        /// <summary>
        /// Removes a segment: handles that other processes hold see Removed on their next operation, waiters
        /// wake, and the name is free at once. Returns false when no such segment exists. A damaged one is
        /// removed too.
        /// </summary>
        public static bool Remove(string name, SharedMemoryScope scope = SharedMemoryScope.User) =>
            SegmentCatalog.Remove(name, scope);
    }
}
