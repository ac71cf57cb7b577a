using System;

namespace PSSharedMemory.Engine
{
    /// <summary>One open, mapped segment file and the OS primitives that go with it.</summary>
    internal abstract unsafe class SegmentMapping : IDisposable
    {
        /// <summary>First byte of the mapping.</summary>
        public abstract byte* Base { get; }

        /// <summary>Bytes mapped: the file's length when it was opened.</summary>
        public abstract long Length { get; }

        /// <summary>True when this user may read the segment but not write it: the mapping is read-only.</summary>
        public virtual bool IsReadOnly => false;

        /// <summary>
        /// False when this mapping cannot register as a waiter (a read-only one cannot bump the waiter
        /// count), so writers will not wake it: it must wait in short slices.
        /// </summary>
        public virtual bool CanWaitForWake => true;

        /// <summary>
        /// Null when the file backs the first <paramref name="length"/> bytes; otherwise why touching them
        /// would fault (the file was shrunk, or its memory is not allocated). Called before every access to
        /// the mapped memory.
        /// </summary>
        public virtual string? CheckIntact(long length) => null;

        /// <summary>The same check for this first mapping.</summary>
        public string? CheckIntact() => CheckIntact(Length);

        /// <summary>The file's length now.</summary>
        public abstract long FileLength();

        /// <summary>
        /// Lengthens the file to <paramref name="fileLength"/> bytes and reserves their space, so that a full
        /// store fails here and never when a page is touched. On failure the file keeps its old length.
        /// </summary>
        public abstract void Extend(long fileLength);

        /// <summary>Maps the first <paramref name="length"/> bytes of the file, which the caller checked it holds.</summary>
        public abstract MappedRegion MapRegion(long length);

        /// <summary>Tries to take the segment's cross-process lock without blocking.</summary>
        public abstract bool TryLock();

        public abstract void Unlock();

        /// <summary>Blocks while *word equals expected, at most the timeout. May return early.</summary>
        public abstract void Wait(int* word, int expected, int timeoutMilliseconds);

        /// <summary>Wakes every process waiting on word.</summary>
        public abstract void WakeAll(int* word);

        /// <summary>
        /// Where a wake object stands for a word (Windows: a named semaphore that <see cref="WakeAll"/>
        /// releases), that object, so one thread can wait on the words of several segments at once; null
        /// where sleepers wait on the word itself.
        /// </summary>
        public virtual System.Threading.WaitHandle? WakeHandle(int* word) => null;

        /// <summary>
        /// Keeps the mapping and file alive until the matching <see cref="Release"/>, even across Dispose,
        /// so an operation in flight on another thread never touches unmapped memory.
        /// Throws ObjectDisposedException once the mapping is closed.
        /// </summary>
        public abstract void AddRef();

        public abstract void Release();

        public abstract void Dispose();
    }
}
