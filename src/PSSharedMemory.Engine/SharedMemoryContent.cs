using System.ComponentModel;
using System.Text;

namespace PSSharedMemory.Engine
{
    /// <summary>A consistent snapshot of a segment's payload.</summary>
    public sealed class SharedMemoryContent
    {
        internal static readonly UTF8Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

        internal SharedMemoryContent(byte[] data, SharedMemoryContentType contentType, long version)
        {
            Data = data;
            ContentType = contentType;
            Version = version;
        }

        /// <summary>The payload bytes; a private copy the caller owns.</summary>
        public byte[] Data { get; }

        /// <summary>What the writer said the payload is.</summary>
        public SharedMemoryContentType ContentType { get; }

        /// <summary>The number of completed writes when this snapshot was taken.</summary>
        public long Version { get; }

        /// <summary>The former name of <see cref="Version"/>.</summary>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public long Sequence => Version;

        /// <summary>Decodes the payload as UTF-8, whatever its content type.</summary>
        public string GetText() => Utf8.GetString(Data);
    }
}
