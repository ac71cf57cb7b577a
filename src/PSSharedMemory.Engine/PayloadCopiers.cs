using System;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// How a payload gets into and out of the mapping: copied from or to a byte array, or encoded and
    /// decoded as UTF-8 straight from a string. They are structs behind generic constraints, so the hot
    /// path of <see cref="PayloadChannel"/> allocates nothing but the result.
    /// </summary>
    internal unsafe interface IPayloadWriter
    {
        /// <summary>The bytes <see cref="WriteTo"/> will write (exact; may cost an encoding pass).</summary>
        long ByteCount { get; }

        /// <summary>A bound on <see cref="ByteCount"/> that costs nothing; the exact count is taken only when this might not fit.</summary>
        long MaxByteCount { get; }

        /// <summary>Writes the payload at <paramref name="destination"/> and returns its length; the caller checked it fits.</summary>
        long WriteTo(byte* destination, long room);
    }

    internal unsafe interface IPayloadReader
    {
        /// <summary>Copies a payload out. May run more than once: a read that raced a writer is retried.</summary>
        void ReadFrom(byte* source, long length, SharedMemoryContentType contentType);
    }

    internal unsafe struct CopyFrom : IPayloadWriter
    {
        public byte* Source;
        public int Count;

        public long ByteCount => Count;

        public long MaxByteCount => Count;

        public long WriteTo(byte* destination, long room)
        {
            Buffer.MemoryCopy(Source, destination, room, Count);
            return Count;
        }
    }

    internal unsafe struct EncodeFrom : IPayloadWriter
    {
        public char* Chars;
        public int Count;

        /// <summary>The exact UTF-8 length when the caller already counted it; otherwise -1.</summary>
        public long Counted;

        public long ByteCount => Counted >= 0 ? Counted : Count == 0 ? 0 : SharedMemoryContent.Utf8.GetByteCount(Chars, Count);

        // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
        public long MaxByteCount => (long)Count * 3;

        public long WriteTo(byte* destination, long room) =>
            Count == 0 ? 0 : SharedMemoryContent.Utf8.GetBytes(Chars, Count, destination, (int)Math.Min(room, int.MaxValue));
    }

    /// <summary>Test hook: writes half the payload, then calls <see cref="MidWrite"/> with the write in progress.</summary>
    internal unsafe struct PausingCopy : IPayloadWriter
    {
        public byte* Source;
        public int Count;
        public Action MidWrite;

        public long ByteCount => Count;

        public long MaxByteCount => Count;

        public long WriteTo(byte* destination, long room)
        {
            Buffer.MemoryCopy(Source, destination, room, Count / 2);
            MidWrite();
            return Count;
        }
    }

    /// <summary>Into a new array of exactly the payload's length.</summary>
    internal unsafe struct CopyToNewArray : IPayloadReader
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

    /// <summary>Into the caller's array at an offset; a payload longer than the room is reported, not copied.</summary>
    internal unsafe struct CopyIntoArray : IPayloadReader
    {
        public byte[] Buffer;
        public int Offset;
        public long Length;
        public SharedMemoryContentType ContentType;

        public void ReadFrom(byte* source, long length, SharedMemoryContentType contentType)
        {
            Length = length;
            ContentType = contentType;
            if (length > Buffer.Length - Offset)
            {
                return;
            }

            fixed (byte* destination = Buffer)
            {
                System.Buffer.MemoryCopy(source, destination + Offset, Buffer.Length - Offset, length);
            }
        }
    }

    internal unsafe struct DecodeTo : IPayloadReader
    {
        public string Text;
        public SharedMemoryContentType ContentType;

        public void ReadFrom(byte* source, long length, SharedMemoryContentType contentType)
        {
            Text = length == 0 ? string.Empty : SharedMemoryContent.Utf8.GetString(source, (int)length);
            ContentType = contentType;
        }
    }

    /// <summary>As the content type calls for: Text and CliXml decoded to a string, Bytes copied to a new array.</summary>
    internal unsafe struct DecodeOrCopy : IPayloadReader
    {
        public string? Text;
        public byte[]? Bytes;
        public SharedMemoryContentType ContentType;

        public void ReadFrom(byte* source, long length, SharedMemoryContentType contentType)
        {
            ContentType = contentType;
            if (contentType == SharedMemoryContentType.Bytes)
            {
                Text = null;
                var copier = new CopyToNewArray { Buffer = Bytes };
                copier.ReadFrom(source, length, contentType);
                Bytes = copier.Buffer;
                return;
            }

            Bytes = null;
            Text = length == 0 ? string.Empty : SharedMemoryContent.Utf8.GetString(source, (int)length);
        }
    }
}
