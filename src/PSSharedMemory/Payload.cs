using System;
using System.Management.Automation;
using System.Text;
using PSSharedMemory.Engine;

namespace PSSharedMemory
{
    /// <summary>Turns what Write-SharedMemory was given into one stored payload, and stored CliXml back into objects.</summary>
    internal static class Payload
    {
        public static readonly UTF8Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

        /// <summary>
        /// The payload for one value: a string is Text, a byte[] is Bytes, anything else (null included) is
        /// CliXml. Text and CliXml come back as a string, which the engine encodes straight into the segment.
        /// </summary>
        public static void FromValue(object? value, int depth, out string? text, out byte[]? bytes, out SharedMemoryContentType contentType) =>
            FromValue(value, depth, utf8CliXml: false, out text, out bytes, out _, out contentType);

        /// <summary>
        /// As <see cref="FromValue(object?, int, out string?, out byte[]?, out SharedMemoryContentType)"/>; with
        /// <paramref name="utf8CliXml"/>, CliXml that the module's own writer writes comes as UTF-8 instead of a
        /// string: the first <paramref name="count"/> bytes of <paramref name="bytes"/>, an array to give back
        /// with <see cref="ReturnCliXml"/> once written.
        /// </summary>
        public static void FromValue(object? value, int depth, bool utf8CliXml, out string? text, out byte[]? bytes, out int count, out SharedMemoryContentType contentType)
        {
            object? unwrapped = Unwrap(value);
            count = 0;
            text = null;
            bytes = null;
            switch (unwrapped)
            {
                case string s:
                    text = s;
                    contentType = SharedMemoryContentType.Text;
                    break;
                case byte[] b:
                    bytes = b;
                    contentType = SharedMemoryContentType.Bytes;
                    break;
                default:
                    ToCliXml(value, depth, utf8CliXml, out text, out bytes, out count);
                    contentType = SharedMemoryContentType.CliXml;
                    return;
            }

            count = bytes?.Length ?? 0;
        }

        /// <summary>
        /// The payload for the items of a pipeline: strings are Text, one line each as Set-Content writes them
        /// (each ends with a line feed); a stream of bytes is Bytes; anything else, mixed input included, a CliXml collection.
        /// </summary>
        public static void FromItems(object?[] items, int depth, out string? text, out byte[]? bytes, out SharedMemoryContentType contentType) =>
            FromItems(items, depth, utf8CliXml: false, out text, out bytes, out _, out contentType);

        /// <summary>
        /// As <see cref="FromItems(object?[], int, out string?, out byte[]?, out SharedMemoryContentType)"/>, with
        /// CliXml as <see cref="FromValue(object?, int, bool, out string?, out byte[]?, out int, out SharedMemoryContentType)"/>
        /// gives it.
        /// </summary>
        public static void FromItems(object?[] items, int depth, bool utf8CliXml, out string? text, out byte[]? bytes, out int count, out SharedMemoryContentType contentType)
        {
            count = 0;
            if (Array.TrueForAll(items, item => Unwrap(item) is string))
            {
                var lines = new StringBuilder();
                foreach (object? item in items)
                {
                    lines.Append((string)Unwrap(item)!).Append('\n');
                }

                text = lines.ToString();
                bytes = null;
                contentType = SharedMemoryContentType.Text;
                return;
            }

            var gathered = new byte[items.Length];
            for (int i = 0; i < items.Length; i++)
            {
                if (Unwrap(items[i]) is byte b)
                {
                    gathered[i] = b;
                    continue;
                }

                ToCliXml(items, depth, utf8CliXml, out text, out bytes, out count);
                contentType = SharedMemoryContentType.CliXml;
                return;
            }

            text = null;
            bytes = gathered;
            count = gathered.Length;
            contentType = SharedMemoryContentType.Bytes;
        }

        /// <summary>Gives back the UTF-8 array of a CliXml payload once it is written (nothing for text or another type).</summary>
        public static void ReturnCliXml(byte[]? bytes, SharedMemoryContentType contentType)
        {
            if (bytes is not null && contentType == SharedMemoryContentType.CliXml)
            {
                FastCliXml.ReturnUtf8(bytes);
            }
        }

        /// <summary>The size Write-SharedMemory gives a growable segment it creates: the payload and a quarter more, at least 4 KiB.</summary>
        public static long AutoSize(long payloadLength) => SharedMemorySegment.GrowableSizeFor(payloadLength);

        /// <summary>
        /// Text as lines, as Get-Content reads a file: split at CRLF, LF or CR, and a line break at the very end
        /// ends the last line rather than starting an empty one.
        /// </summary>
        public static string[] SplitLines(string text)
        {
            if (text.Length == 0)
            {
                return Array.Empty<string>();
            }

            string[] lines = text.Split(s_lineBreaks, StringSplitOptions.None);
            if (lines[lines.Length - 1].Length == 0)
            {
                Array.Resize(ref lines, lines.Length - 1);
            }

            return lines;
        }

        private static readonly string[] s_lineBreaks = { "\r\n", "\n", "\r" };

        /// <summary>The objects stored CliXml holds, as PSSerializer.DeserializeAsList returns them.</summary>
        public static object[] FromCliXml(string xml) => FastCliXml.TryDeserialize(xml) ?? PSSerializer.DeserializeAsList(xml);

        // The fast writer takes what no depth can cut (PSCustomObjects, plain values, lists and hashtables of them),
        // so its CliXml reads back as PSSerializer's at any depth would.
        private static string ToCliXml(object? value, int depth) =>
            FastCliXml.TrySerialize(value) ?? PSSerializer.Serialize(value, depth);

        private static void ToCliXml(object? value, int depth, bool utf8, out string? text, out byte[]? bytes, out int count)
        {
            count = 0;
            if (!utf8)
            {
                text = ToCliXml(value, depth);
                bytes = null;
                return;
            }

            bytes = FastCliXml.TrySerializeUtf8(value, out count);
            text = bytes is null ? PSSerializer.Serialize(value, depth) : null;
        }

        private static object? Unwrap(object? value) => value is PSObject wrapped ? wrapped.BaseObject : value;
    }
}
