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
        public static void FromValue(object? value, int depth, out string? text, out byte[]? bytes, out SharedMemoryContentType contentType)
        {
            object? unwrapped = Unwrap(value);
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
                    text = ToCliXml(value, depth);
                    contentType = SharedMemoryContentType.CliXml;
                    break;
            }
        }

        /// <summary>
        /// The payload for the items of a pipeline: strings are Text, one line each as Set-Content writes them
        /// (each ends with a line feed); a stream of bytes is Bytes; anything else, mixed input included, a CliXml collection.
        /// </summary>
        public static void FromItems(object?[] items, int depth, out string? text, out byte[]? bytes, out SharedMemoryContentType contentType)
        {
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

                text = ToCliXml(items, depth);
                bytes = null;
                contentType = SharedMemoryContentType.CliXml;
                return;
            }

            text = null;
            bytes = gathered;
            contentType = SharedMemoryContentType.Bytes;
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

        private static object? Unwrap(object? value) => value is PSObject wrapped ? wrapped.BaseObject : value;
    }
}
