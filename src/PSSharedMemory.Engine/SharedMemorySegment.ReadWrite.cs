using System;
using System.Threading;

namespace PSSharedMemory.Engine
{
    /// <summary>The public face's writes and reads: every overload ends in <see cref="PayloadChannel"/>.</summary>
    public sealed unsafe partial class SharedMemorySegment
    {
        /// <summary>Writes a payload, replacing the previous one. Returns the new <see cref="Version"/>.</summary>
        public long Write(byte[] payload, SharedMemoryContentType contentType)
            => Write(payload, 0, payload?.Length ?? 0, contentType, DefaultLockTimeout, CancellationToken.None);

        /// <summary>Writes <paramref name="count"/> bytes of <paramref name="payload"/> from <paramref name="offset"/>.</summary>
        public long Write(byte[] payload, int offset, int count, SharedMemoryContentType contentType, TimeSpan lockTimeout, CancellationToken cancellationToken)
            => WriteBytes(payload, offset, count, contentType, null, false, lockTimeout, cancellationToken);

        /// <summary>
        /// Writes <paramref name="count"/> bytes of <paramref name="payload"/> from <paramref name="offset"/> as
        /// <paramref name="options"/> say: conditional on a version, or appended. Returns the new version.
        /// </summary>
        public long Write(byte[] payload, int offset, int count, SharedMemoryContentType contentType, SharedMemoryWriteOptions options)
        {
            if (options is null)
            {
                throw new ArgumentNullException(nameof(options));
            }

            return WriteBytes(payload, offset, count, contentType, options.IfVersion, options.Append, options.LockTimeout, options.CancellationToken);
        }

        private long WriteBytes(byte[] payload, int offset, int count, SharedMemoryContentType contentType, long? ifVersion, bool append, TimeSpan lockTimeout, CancellationToken cancellationToken)
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
            RequireKind(SharedMemorySegmentKind.Value, append ? "appended to" : "written");
            CheckFits(count);
            fixed (byte* source = payload)
            {
                var copier = new CopyFrom { Source = source + offset, Count = count };
                SegmentView.Lease lease = _view.Enter();
                try
                {
                    return _channel.Write(ref lease, contentType, ifVersion, append, lockTimeout, cancellationToken, ref copier);
                }
                finally
                {
                    lease.Dispose();
                }
            }
        }

        /// <summary>Writes a string as UTF-8 text, encoding it straight into the segment.</summary>
        public long WriteText(string text) => WriteText(text, DefaultLockTimeout, CancellationToken.None);

        /// <summary>Writes a string as UTF-8 text, encoding it straight into the segment.</summary>
        public long WriteText(string text, TimeSpan lockTimeout, CancellationToken cancellationToken)
            => WriteText(text, SharedMemoryContentType.Text, lockTimeout, cancellationToken);

        /// <summary>
        /// Writes a string encoded as UTF-8 straight into the segment, labelled with <paramref name="contentType"/>
        /// (Text, or CliXml for serialized objects).
        /// </summary>
        public long WriteText(string text, SharedMemoryContentType contentType, TimeSpan lockTimeout, CancellationToken cancellationToken)
            => WriteEncoded(text, contentType, null, false, lockTimeout, cancellationToken);

        /// <summary>Writes a string as UTF-8 straight into the segment, as <paramref name="options"/> say.</summary>
        public long WriteText(string text, SharedMemoryContentType contentType, SharedMemoryWriteOptions options)
        {
            if (options is null)
            {
                throw new ArgumentNullException(nameof(options));
            }

            return WriteEncoded(text, contentType, options.IfVersion, options.Append, options.LockTimeout, options.CancellationToken);
        }

        private long WriteEncoded(string text, SharedMemoryContentType contentType, long? ifVersion, bool append, TimeSpan lockTimeout, CancellationToken cancellationToken)
        {
            if (text is null)
            {
                throw new ArgumentNullException(nameof(text));
            }

            CheckContentType(contentType);
            RequireKind(SharedMemorySegmentKind.Value, append ? "appended to" : "written");

            // Worst case is 3 bytes per UTF-16 unit; count exactly only when that might not fit.
            long counted = -1;
            if ((long)text.Length * 3 > _view.MaxSize)
            {
                counted = SharedMemoryContent.Utf8.GetByteCount(text);
                CheckFits(counted);
            }

            fixed (char* chars = text)
            {
                var encoder = new EncodeFrom { Chars = chars, Count = text.Length, Counted = counted };
                SegmentView.Lease lease = _view.Enter();
                try
                {
                    return _channel.Write(ref lease, contentType, ifVersion, append, lockTimeout, cancellationToken, ref encoder);
                }
                finally
                {
                    lease.Dispose();
                }
            }
        }

        /// <summary>Reads a consistent copy of the payload with its content type and version.</summary>
        public SharedMemoryContent Read() => Read(DefaultLockTimeout, CancellationToken.None);

        /// <summary>
        /// Reads a consistent copy of the payload. The lock is needed (and waited for, up to
        /// <paramref name="lockTimeout"/>) only when writers keep the reader from a clean copy.
        /// </summary>
        public SharedMemoryContent Read(TimeSpan lockTimeout, CancellationToken cancellationToken)
        {
            var copier = new CopyToNewArray();
            long version;
            SegmentView.Lease lease = _view.Enter();
            try
            {
                version = _channel.Read(ref lease, lockTimeout, cancellationToken, ref copier);
            }
            finally
            {
                lease.Dispose();
            }

            return new SharedMemoryContent(copier.Buffer!, copier.ContentType, version);
        }

        /// <summary>
        /// Reads a consistent copy of the payload into <paramref name="buffer"/> from <paramref name="offset"/>,
        /// allocating nothing, and returns its length: for a caller that reads large payloads in a loop into one
        /// reused buffer. The copy is made as <see cref="Read()"/> makes it, without a lock, and kept only when no
        /// write overlapped it. A payload longer than the room from <paramref name="offset"/> is not copied:
        /// <see cref="SharedMemoryException"/> with <see cref="SharedMemoryErrorCode.BufferTooSmall"/>, whose
        /// <see cref="SharedMemoryException.RequiredLength"/> is the payload's length (see
        /// <see cref="TryRead(byte[], int, out int, out long)"/> to get it without an exception).
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="buffer"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative or past the end of the buffer.</exception>
        /// <exception cref="SharedMemoryException">BufferTooSmall, WrongKind (a queue), and whatever <see cref="Read()"/> throws.</exception>
        public int Read(byte[] buffer, int offset) =>
            Read(buffer, offset, DefaultLockTimeout, CancellationToken.None, out _, out _);

        /// <summary>
        /// Reads a consistent copy of the payload into <paramref name="buffer"/> from <paramref name="offset"/>,
        /// allocating nothing; returns its length, with its content type and version. The lock is needed (and
        /// waited for, up to <paramref name="lockTimeout"/>) only when writers keep the reader from a clean copy.
        /// A payload longer than the room is not copied: BufferTooSmall, with the length in
        /// <see cref="SharedMemoryException.RequiredLength"/>.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="buffer"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative or past the end of the buffer.</exception>
        /// <exception cref="SharedMemoryException">BufferTooSmall, WrongKind (a queue), and whatever <see cref="Read()"/> throws.</exception>
        public int Read(byte[] buffer, int offset, TimeSpan lockTimeout, CancellationToken cancellationToken, out SharedMemoryContentType contentType, out long version)
        {
            long length = ReadInto(buffer, offset, lockTimeout, cancellationToken, out contentType, out version);
            if (length > buffer.Length - offset)
            {
                throw SegmentErrors.BufferTooSmall(Name, length, buffer.Length - offset, offset);
            }

            return (int)length;
        }

        /// <summary>
        /// Reads a consistent copy of the payload into <paramref name="buffer"/> from <paramref name="offset"/>,
        /// allocating nothing. Returns true with the payload's <paramref name="length"/> when it fitted; false,
        /// with nothing copied and <paramref name="length"/> set to the payload's length (the room it needs),
        /// when it did not. The payload can change before the next call, so retry in a loop:
        /// <code>
        /// while (!segment.TryRead(buffer, 0, out int length, out long version)) { buffer = new byte[length]; }
        /// </code>
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="buffer"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative or past the end of the buffer.</exception>
        /// <exception cref="SharedMemoryException">
        /// WrongKind (a queue), whatever <see cref="Read()"/> throws, and BufferTooSmall only for a payload longer
        /// than <see cref="int.MaxValue"/> bytes, which no array can hold.
        /// </exception>
        public bool TryRead(byte[] buffer, int offset, out int length, out long version) =>
            TryRead(buffer, offset, DefaultLockTimeout, CancellationToken.None, out length, out _, out version);

        /// <summary>
        /// <see cref="TryRead(byte[], int, out int, out long)"/> with a lock timeout and a cancellation token, and
        /// the payload's content type. The lock is needed (and waited for, up to <paramref name="lockTimeout"/>)
        /// only when writers keep the reader from a clean copy.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="buffer"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative or past the end of the buffer.</exception>
        /// <exception cref="SharedMemoryException">
        /// WrongKind (a queue), whatever <see cref="Read()"/> throws, and BufferTooSmall only for a payload longer
        /// than <see cref="int.MaxValue"/> bytes, which no array can hold.
        /// </exception>
        public bool TryRead(byte[] buffer, int offset, TimeSpan lockTimeout, CancellationToken cancellationToken, out int length, out SharedMemoryContentType contentType, out long version)
        {
            long found = ReadInto(buffer, offset, lockTimeout, cancellationToken, out contentType, out version);
            if (found > int.MaxValue)
            {
                throw SegmentErrors.BufferTooSmall(Name, found, buffer.Length - offset, offset);
            }

            length = (int)found;
            return found <= buffer.Length - offset;
        }

        /// <summary>
        /// The read behind <see cref="Read(byte[], int)"/> and <see cref="TryRead(byte[], int, out int, out long)"/>:
        /// copies the payload when it fits the room from <paramref name="offset"/>, and returns its length either way.
        /// </summary>
        private long ReadInto(byte[] buffer, int offset, TimeSpan lockTimeout, CancellationToken cancellationToken, out SharedMemoryContentType contentType, out long version)
        {
            if (buffer is null)
            {
                throw new ArgumentNullException(nameof(buffer));
            }

            if (offset < 0 || offset > buffer.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), offset, "offset must lie within the buffer, from 0 to its length.");
            }

            var copier = new CopyIntoArray { Buffer = buffer, Offset = offset };
            SegmentView.Lease lease = _view.Enter();
            try
            {
                version = _channel.Read(ref lease, lockTimeout, cancellationToken, ref copier);
            }
            finally
            {
                lease.Dispose();
            }

            contentType = copier.ContentType;
            return copier.Length;
        }

        /// <summary>Reads the payload decoded as UTF-8 text, decoding straight from the segment.</summary>
        public string ReadText(out SharedMemoryContentType contentType, out long version)
            => ReadText(DefaultLockTimeout, CancellationToken.None, out contentType, out version);

        /// <summary>
        /// Reads the payload decoded as UTF-8 text, decoding straight from the segment. The lock is needed
        /// (and waited for, up to <paramref name="lockTimeout"/>) only when writers keep the reader from a clean copy.
        /// </summary>
        public string ReadText(TimeSpan lockTimeout, CancellationToken cancellationToken, out SharedMemoryContentType contentType, out long version)
        {
            var decoder = new DecodeTo();
            SegmentView.Lease lease = _view.Enter();
            try
            {
                version = _channel.Read(ref lease, lockTimeout, cancellationToken, ref decoder);
            }
            finally
            {
                lease.Dispose();
            }

            contentType = decoder.ContentType;
            return decoder.Text;
        }

        /// <summary>
        /// Reads the payload in the form its content type calls for, in one consistent read: Text and CliXml
        /// decoded from UTF-8 straight out of the mapping into <paramref name="text"/>, Bytes copied into a new
        /// array in <paramref name="bytes"/> (the other one is null). Saves a caller that handles each type its
        /// own way a look at <see cref="ContentType"/> first, which a writer could change in between.
        /// </summary>
        /// <returns>The content type of what was read.</returns>
        public SharedMemoryContentType ReadAsStored(TimeSpan lockTimeout, CancellationToken cancellationToken, out string? text, out byte[]? bytes, out long version)
        {
            var reader = new DecodeOrCopy();
            SegmentView.Lease lease = _view.Enter();
            try
            {
                version = _channel.Read(ref lease, lockTimeout, cancellationToken, ref reader);
            }
            finally
            {
                lease.Dispose();
            }

            text = reader.Text;
            bytes = reader.Bytes;
            return reader.ContentType;
        }

        private void CheckFits(long length)
        {
            // A growable segment grows under the lock when the payload needs it; only its largest size is checked here.
            long largest = _view.MaxSize;
            if (length > largest)
            {
                throw SegmentErrors.PayloadTooLarge(Name, length, largest);
            }
        }

        private static void CheckContentType(SharedMemoryContentType contentType)
        {
            if ((uint)contentType > SegmentLayout.MaxContentType)
            {
                throw new ArgumentOutOfRangeException(nameof(contentType), contentType, "Unknown content type.");
            }
        }
    }
}
