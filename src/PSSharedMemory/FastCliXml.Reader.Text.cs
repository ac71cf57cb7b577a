using System;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Xml;

namespace PSSharedMemory
{
    /// <content>The reader's text: names, character data with its entities undone, and canonical integers, taken from the CliXml in place.</content>
    internal static partial class FastCliXml
    {
        private sealed partial class Reader
        {
            [MethodImpl(Optimized)]
            private bool IsText(int start, int length, string expected) =>
                length == expected.Length && string.CompareOrdinal(_xml, start, expected, 0, length) == 0;

            [MethodImpl(Optimized)]
            private string Text(int start, int length, bool entities) =>
                entities ? Unescape(start, length) : _xml.Substring(start, length);

            // A property name, shared between the objects that have it.
            [MethodImpl(Optimized)]
            private string NameAt(int start, int length, bool entities)
            {
                if (entities)
                {
                    return DecodeName(Unescape(start, length));
                }

                int hash = length;
                for (int i = start; i < start + length; i++)
                {
                    hash = (hash * 31) + _xml[i];
                }

                ref string? cached = ref _nameCache[hash & 255];
                if (cached is not null && cached.Length == length && string.CompareOrdinal(cached, 0, _xml, start, length) == 0)
                {
                    return cached;
                }

                cached = DecodeName(_xml.Substring(start, length));
                return cached;
            }

            // Canonical integers only ([-]digits, at most 18); anything else goes to XmlConvert.
            [MethodImpl(Optimized)]
            private bool TryParseInteger(int start, int length, out long value)
            {
                value = 0;
                int i = start;
                int end = start + length;
                bool negative = i < end && _xml[i] == '-';
                if (negative)
                {
                    i++;
                }

                if (i == end || end - i > 18)
                {
                    return false;
                }

                for (; i < end; i++)
                {
                    int digit = _xml[i] - '0';
                    if (digit < 0 || digit > 9)
                    {
                        return false;
                    }

                    value = (value * 10) + digit;
                }

                if (negative)
                {
                    value = -value;
                }

                return true;
            }

            private string Unescape(int start, int length)
            {
                var text = new StringBuilder(length);
                int end = start + length;
                for (int i = start; i < end; i++)
                {
                    char c = _xml[i];
                    if (c != '&')
                    {
                        text.Append(c);
                        continue;
                    }

                    int semicolon = _xml.IndexOf(';', i + 1, end - i - 1);
                    if (semicolon < 0)
                    {
                        throw new FormatException("An entity does not end.");
                    }

                    string entity = _xml.Substring(i + 1, semicolon - i - 1);
                    switch (entity)
                    {
                        case "amp": text.Append('&'); break;
                        case "lt": text.Append('<'); break;
                        case "gt": text.Append('>'); break;
                        case "quot": text.Append('"'); break;
                        case "apos": text.Append('\''); break;
                        default: text.Append(CharacterReference(entity)); break;
                    }

                    i = semicolon;
                }

                return text.ToString();
            }

            private static string CharacterReference(string entity)
            {
                if (entity.Length < 2 || entity[0] != '#')
                {
                    throw new FormatException("An entity other than XML's own.");
                }

                int code = entity[1] == 'x'
                    ? int.Parse(entity.Substring(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)
                    : int.Parse(entity.Substring(1), NumberStyles.None, CultureInfo.InvariantCulture);
                bool valid = code == 0x9 || code == 0xA || code == 0xD
                    || (code >= 0x20 && code <= 0xD7FF) || (code >= 0xE000 && code <= 0xFFFD) || (code >= 0x10000 && code <= 0x10FFFF);
                if (!valid)
                {
                    throw new FormatException("A character reference to a character XML does not allow.");
                }

                return char.ConvertFromUtf32(code);
            }
        }
    }
}
