using System;
using System.Threading;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    /// <content>Growth: mapping the file again when it grew here or in another process, and growing it.</content>
    internal sealed unsafe partial class SegmentView
    {
        /// <summary>
        /// Maps the file again when another process grew it past the current region; returns the current
        /// region (not referenced). Fails with Corrupted when the header claims more than the file holds.
        /// </summary>
        public MappedRegion Refresh()
        {
            lock (_regionGate)
            {
                MappedRegion current = _region;
                long size = Volatile.Read(ref Header.Size);
                if (size <= current.Size)
                {
                    return current;
                }

                if (size > Header.MaxSize)
                {
                    throw SegmentErrors.Corrupted(Name, $"its header says the size is {size} bytes, more than its largest, {Header.MaxSize}");
                }

                try
                {
                    // A grower lengthens the file before it raises the size, so a shorter file is damage.
                    long fileLength = Mapping.FileLength();
                    if (fileLength < SegmentLayout.HeaderSize + size)
                    {
                        throw SegmentErrors.Corrupted(Name, $"its header says the size is {size} bytes but the file holds {Math.Max(0, fileLength - SegmentLayout.HeaderSize)}");
                    }

                    return Replace(Mapping.MapRegion(SegmentLayout.HeaderSize + size));
                }
                catch (NativeException e)
                {
                    throw Translate(e);
                }
            }
        }

        /// <summary>
        /// Grows the segment so it holds at least <paramref name="needed"/> payload bytes, and moves the
        /// lease to the larger region. The caller holds the segment's lock and the lease, and checked that
        /// <paramref name="needed"/> is within <see cref="MaxSize"/>. Fails with OutOfSpace, leaving the
        /// segment as it was.
        /// </summary>
        public void Grow(long needed, ref Lease lease)
        {
            lock (_regionGate)
            {
                long size = Volatile.Read(ref Header.Size);
                if (needed > size)
                {
                    long grown = GrowthFor(needed, Header.MaxSize);
                    try
                    {
                        // Lengthen and reserve the file before any process may map it at the new size.
                        Mapping.Extend(SegmentLayout.HeaderSize + grown);
                        MappedRegion region = Mapping.MapRegion(SegmentLayout.HeaderSize + grown);
                        GrowthPausePoint?.Invoke("extended");
                        Volatile.Write(ref Header.Size, grown);
                        Replace(region);
                        GrowthPausePoint?.Invoke("resized");
                    }
                    catch (NativeException e)
                    {
                        throw SegmentErrors.Translate(e, Name, Store, grown);
                    }
                }
            }

            MoveToCurrentRegion(ref lease);
        }

        /// <summary>Moves <paramref name="lease"/> to the current region, mapping the file again if another process grew it.</summary>
        public void MoveToCurrentRegion(ref Lease lease)
        {
            MappedRegion current = TakeRegion();
            if (current == lease.Region)
            {
                current.Release();
                return;
            }

            lease.Move(current);
        }

        /// <summary>
        /// The size a growable segment takes to hold <paramref name="needed"/> bytes: a quarter more, at
        /// least 4 KiB, at most <paramref name="maxSize"/>, so a run of appends grows it a few times, not each time.
        /// </summary>
        public static long GrowthFor(long needed, long maxSize)
        {
            long size = needed > maxSize - needed / 4 ? maxSize : needed + needed / 4;
            return Math.Min(Math.Max(size, MinimumGrowableSize), maxSize);
        }

        private MappedRegion Replace(MappedRegion region)
        {
            MappedRegion old = _region;
            Volatile.Write(ref _region, region);
            if (IsDisposed)
            {
                // Closed meanwhile: nothing would retire this one later.
                region.Retire();
            }

            // The first mapping also carries the header, so it stays until the handle closes.
            old.Retire();
            return region;
        }
    }
}
