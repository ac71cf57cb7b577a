using System;
using System.Threading;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    /// <content>The checks that the file still backs the mapping before it is touched, and the recent look that may stand in for one.</content>
    internal sealed unsafe partial class SegmentView
    {
        // How long a look at the file, vouched for by VouchIntact, stands in for the check of the next Enter
        // (Stopwatch ticks; tests lengthen it to tell the other conditions apart from the time).
        internal static long s_vouchTicks = System.Diagnostics.Stopwatch.Frequency / 1000;

        // The view, mapped length and time of this thread's last vouched look (VouchIntact); one Enter uses it.
        [ThreadStatic]
        private static SegmentView? t_vouchedView;

        [ThreadStatic]
        private static long t_vouchedLength;

        [ThreadStatic]
        private static long t_vouchedAt;

        /// <summary>
        /// Fails with Corrupted when the file no longer backs the whole mapping (someone shrank it), instead
        /// of letting the next access fault. One fstat; a truncation after it and before the access can still
        /// fault, which .NET cannot catch (see "Trust model" in docs/segment-format.md).
        /// </summary>
        public void CheckIntact() => CheckIntact(Volatile.Read(ref _region));

        /// <summary>
        /// Records that this thread has just seen the file back <paramref name="mappedLength"/> bytes of the
        /// mapping by other means (the lstat of the segment's name: <see cref="SharedMemorySegment.IsOrphaned"/>).
        /// The next <see cref="Enter()"/> of this thread, if it comes within a millisecond, on this view and for
        /// no more than that length, skips its own fstat: that look is as recent as the one it replaces, and
        /// neither can stop a truncation that comes after it. Any other checking Enter of the thread drops it.
        /// </summary>
        public void VouchIntact(long mappedLength)
        {
            t_vouchedView = this;
            t_vouchedLength = mappedLength;
            t_vouchedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        }

        private bool TakeVouch(MappedRegion region)
        {
            SegmentView? vouched = t_vouchedView;
            if (vouched is null)
            {
                return false;
            }

            t_vouchedView = null;
            return ReferenceEquals(vouched, this)
                && region.Length <= t_vouchedLength
                && System.Diagnostics.Stopwatch.GetTimestamp() - t_vouchedAt <= Volatile.Read(ref s_vouchTicks);
        }

        /// <summary>The same check, for the length of <paramref name="region"/>.</summary>
        public void CheckIntact(MappedRegion region)
        {
            string? damage;
            try
            {
                damage = Mapping.CheckIntact(region.Length);
            }
            catch (NativeException e)
            {
                throw SegmentErrors.Translate(e, Name, Store, Size);
            }

            if (damage is not null)
            {
                throw SegmentErrors.Corrupted(Name, damage);
            }
        }
    }
}
