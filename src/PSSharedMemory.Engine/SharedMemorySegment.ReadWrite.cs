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
        /// allocating nothing. Returns the payload's length; when that is more than the room, nothing was
        /// copied and the caller can retry with a larger buffer.
        /// </summary>
        public long Read(byte[] buffer, int offset, TimeSpan lockTimeout, CancellationToken cancellationToken, out SharedMemoryContentType contentType, out long version)
        {
            if (buffer is null)
            {
                throw new ArgumentNullException(nameof(buffer));
            }

            if (offset < 0 || offset > buffer.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), "offset must lie within the buffer.");
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
