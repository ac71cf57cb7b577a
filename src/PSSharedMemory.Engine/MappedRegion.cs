using System;
using System.Runtime.InteropServices;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// One mapping of a segment file from its first byte, through which the payload is reached. A fixed
    /// segment has one, its handle's first mapping. A growable segment gets a larger one after each grow;
    /// a replaced region stays mapped until the last operation that entered with it ends.
    /// </summary>
    internal sealed unsafe class MappedRegion
    {
        private readonly SafeHandle? _owner;
        private readonly Action? _retire;

        /// <param name="mappingBase">The first byte of the file, as mapped.</param>
        /// <param name="length">Bytes mapped, header included.</param>
        /// <param name="owner">
        /// The handle whose last release unmaps the region; null for the handle's first mapping, which lives
        /// as long as the handle.
        /// </param>
        /// <param name="retire">Disposes <paramref name="owner"/> and whatever else this region holds.</param>
        public MappedRegion(byte* mappingBase, long length, SafeHandle? owner, Action? retire)
        {
            Base = mappingBase;
            Length = length;
            _owner = owner;
            _retire = retire;
        }

        public byte* Base { get; }

        /// <summary>Bytes mapped, header included.</summary>
        public long Length { get; }

        /// <summary>The first payload byte.</summary>
        public byte* Payload => Base + SegmentLayout.HeaderSize;

        /// <summary>The payload bytes this region may touch.</summary>
        public long Size => Length - SegmentLayout.HeaderSize;

        /// <summary>False when the region was replaced and unmapped meanwhile: take the current one.</summary>
        public bool TryAddRef()
        {
            if (_owner is null)
            {
                return true;
            }

            bool added = false;
            try
            {
                _owner.DangerousAddRef(ref added);
            }
            catch (ObjectDisposedException)
            {
            }

            return added;
        }

        public void Release() => _owner?.DangerousRelease();

        /// <summary>Replaced by a larger region: unmaps once no operation uses it.</summary>
        public void Retire() => _retire?.Invoke();
    }
}
