using System;
using System.Collections.Generic;
using System.Threading;

namespace PSSharedMemory.Engine
{
    /// <summary>The public face's wait on several segments at once; the work is in <see cref="MultiWait"/>.</summary>
    public sealed partial class SharedMemorySegment
    {
        /// <summary>
        /// Blocks until any of <paramref name="segments"/> has a <see cref="Version"/> greater than its entry of
        /// <paramref name="sinceVersions"/>, or was removed, and returns the indices of all such segments, in
        /// ascending order; at once when some already are. A removed segment is reported, not thrown: its
        /// <see cref="IsRemoved"/> is true. A segment listed twice is waited on once. Fails with WaitTimeout when
        /// the timeout passes first, with <see cref="OperationCanceledException"/> when cancelled, and with
        /// <see cref="ObjectDisposedException"/> when a handle is closed meanwhile.
        /// </summary>
        /// <param name="segments">The handles to wait on; at least one.</param>
        /// <param name="sinceVersions">For each handle, the version to wait past: take it before starting the writers, and no write can slip between.</param>
        /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.</param>
        /// <param name="cancellationToken">Ends the wait at once with <see cref="OperationCanceledException"/>.</param>
        public static IReadOnlyList<int> WaitForAny(IReadOnlyList<SharedMemorySegment> segments, IReadOnlyList<long> sinceVersions, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (!TryWaitForAny(segments, sinceVersions, timeout, cancellationToken, out IReadOnlyList<int> ready))
            {
                throw SegmentErrors.WaitTimeout(segments, timeout);
            }

            return ready;
        }

        /// <summary>
        /// <see cref="WaitForAny"/> that returns false, with no indices, when the timeout passes, instead of
        /// failing with WaitTimeout: for a watcher that waits in rounds.
        /// </summary>
        public static bool TryWaitForAny(IReadOnlyList<SharedMemorySegment> segments, IReadOnlyList<long> sinceVersions, TimeSpan timeout,
            CancellationToken cancellationToken, out IReadOnlyList<int> ready)
        {
            if (segments is null)
            {
                throw new ArgumentNullException(nameof(segments));
            }

            if (sinceVersions is null)
            {
                throw new ArgumentNullException(nameof(sinceVersions));
            }

            if (segments.Count == 0)
            {
                throw new ArgumentException("Give at least one segment to wait on.", nameof(segments));
            }

            if (sinceVersions.Count != segments.Count)
            {
                throw new ArgumentException($"Give one version for each segment: {segments.Count} segments, {sinceVersions.Count} versions.", nameof(sinceVersions));
            }

            for (int i = 0; i < segments.Count; i++)
            {
                if (segments[i] is null)
                {
                    throw new ArgumentNullException(nameof(segments), $"Segment {i} of the list is null.");
                }
            }

            var found = new List<int>();
            bool changed = MultiWait.WaitForAny(segments, sinceVersions, timeout, cancellationToken, found);
            ready = found;
            return changed;
        }
    }
}
