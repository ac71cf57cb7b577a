using System;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Xml;

namespace PSSharedMemory
{
    /// <content>The reader's XML: tags, attributes, text, entities and the integers of CliXml, read in place.</content>
    internal static partial class FastCliXml
    {
        private sealed partial class Reader
        {
            [MethodImpl(Optimized)]
            private void SkipWhitespace()
            {
                while (_pos < _xml.Length)
                {
                    char c = _xml[_pos];
                    if (c != ' ' && c != '\n' && c != '\t' && c != '\r')
                    {
                        return;
                    }

                    _pos++;
                }
            }

            [MethodImpl(Optimized)]
            private bool AtEndTag() => _pos + 1 < _xml.Length && _xml[_pos] == '<' && _xml[_pos + 1] == '/';

            // A start tag and its attributes: N (decoded), RefId (a number), and on the root Version and xmlns.
            [MethodImpl(Optimized)]
            private bool TryReadStartTag(out Tag tag, bool isRoot = false)
            {
                tag = default;
                if (_pos >= _xml.Length || _xml[_pos] != '<')
                {
                    return false;
                }

                int nameStart = ++_pos;
                while (_pos < _xml.Length && IsNameChar(_xml[_pos]))
                {
                    _pos++;
                }

                if (_pos == nameStart || _pos >= _xml.Length)
                {
                    return false;
                }

                tag = new Tag(_xml, nameStart, _pos - nameStart);
                while (true)
                {
                    bool spaced = _pos < _xml.Length && IsWhitespace(_xml[_pos]);
                    SkipWhitespace();
                    if (_pos >= _xml.Length)
                    {
                        return false;
                    }

                    char c = _xml[_pos];
                    if (c == '>')
                    {
                        _pos++;
                        return isRoot || (tag.Version is null && tag.Namespace is null);
                    }

                    if (c == '/')
                    {
                        if (_pos + 1 >= _xml.Length || _xml[_pos + 1] != '>')
                        {
                            return false;
                        }

                        _pos += 2;
                        tag.IsEmpty = true;
                        return isRoot || (tag.Version is null && tag.Namespace is null);
                    }

                    int attributeStart = _pos;
                    while (_pos < _xml.Length && IsNameChar(_xml[_pos]))
                    {
                        _pos++;
                    }

                    int attributeLength = _pos - attributeStart;
                    SkipWhitespace();
                    if (!spaced || attributeLength == 0 || _pos >= _xml.Length || _xml[_pos] != '=')
                    {
                        return false;
                    }

                    _pos++;
                    SkipWhitespace();
                    if (!TryReadAttributeValue(out int valueStart, out int valueLength, out bool entities))
                    {
                        return false;
                    }

                    if (!tag.TrySetAttribute(this, attributeStart, attributeLength, valueStart, valueLength, entities))
                    {
                        return false;
                    }
                }
            }

            [MethodImpl(Optimized)]
            private bool TryReadAttributeValue(out int start, out int length, out bool entities)
            {
                start = length = 0;
                entities = false;
                if (_pos >= _xml.Length || (_xml[_pos] != '"' && _xml[_pos] != '\''))
                {
                    return false;
                }

                char quote = _xml[_pos++];
                start = _pos;
                while (_pos < _xml.Length)
                {
                    char c = _xml[_pos];
                    if (c == quote)
                    {
                        length = _pos++ - start;
                        return true;
                    }

                    // XML turns line breaks and tabs in attributes into spaces: PSSerializer never writes them raw.
                    if (c == '<' || c < ' ')
                    {
                        return false;
                    }

                    entities |= c == '&';
                    _pos++;
                }

                return false;
            }

            // Character data up to the next tag: no markup but entities, and no line break XML would normalize.
            [MethodImpl(Optimized)]
            private bool TryReadText(out int start, out int length, out bool entities)
            {
                start = _pos;
                entities = false;
                while (_pos < _xml.Length)
                {
                    char c = _xml[_pos];
                    if (c == '<')
                    {
                        length = _pos - start;
                        return true;
                    }

                    if (c == '>' || c == '\r' || (c < ' ' && c != '\n' && c != '\t'))
                    {
                        break;
                    }

                    entities |= c == '&';
                    _pos++;
                }

                length = 0;
                return false;
            }

            [MethodImpl(Optimized)]
            private bool TryReadEndTag(Tag tag)
            {
                int end = _pos + 2 + tag.Length;
                if (end >= _xml.Length || _xml[_pos] != '<' || _xml[_pos + 1] != '/'
                    || string.CompareOrdinal(_xml, _pos + 2, _xml, tag.Start, tag.Length) != 0)
                {
                    return false;
                }

                _pos = end;
                SkipWhitespace();
                if (_pos >= _xml.Length || _xml[_pos] != '>')
                {
                    return false;
                }

                _pos++;
                return true;
            }

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

            [MethodImpl(Optimized)]
            private static bool IsWhitespace(char c) => c == ' ' || c == '\n' || c == '\t' || c == '\r';

            // Element and attribute names of CliXml: ASCII letters and digits, and xmlns. A ':' (a prefix) is refused.
            [MethodImpl(Optimized)]
            private static bool IsNameChar(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

            /// <summary>A start tag as read.</summary>
            private struct Tag
            {
                private readonly string _xml;

                public Tag(string xml, int start, int length)
                {
                    _xml = xml;
                    Start = start;
                    Length = length;
                    IsEmpty = false;
                    Name = null;
                    RefId = -1;
                    Version = null;
                    Namespace = null;
                }

                /// <summary>Where the element's name starts in the text.</summary>
                public int Start { get; }

                /// <summary>The length of the element's name.</summary>
                public int Length { get; }

                /// <summary>Whether the tag closes itself.</summary>
                public bool IsEmpty { get; set; }

                /// <summary>The decoded N attribute: a property's name.</summary>
                public string? Name { get; private set; }

                /// <summary>The RefId attribute, or -1.</summary>
                public int RefId { get; private set; }

                /// <summary>The root's Version attribute.</summary>
                public string? Version { get; private set; }

                /// <summary>The root's xmlns attribute.</summary>
                public string? Namespace { get; private set; }

                [MethodImpl(Optimized)]
                public bool Is(string name) => Length == name.Length && string.CompareOrdinal(_xml, Start, name, 0, Length) == 0;

                /// <summary>Takes one attribute; false for a repeated or unknown one, or a RefId that is not a small number.</summary>
                [MethodImpl(Optimized)]
                public bool TrySetAttribute(Reader reader, int nameStart, int nameLength, int valueStart, int valueLength, bool entities)
                {
                    if (IsName(nameStart, nameLength, "N") && Name is null)
                    {
                        Name = reader.NameAt(valueStart, valueLength, entities);
                        return true;
                    }

                    if (IsName(nameStart, nameLength, "RefId") && RefId < 0 && !entities && valueLength > 0 && valueLength <= 9)
                    {
                        int id = 0;
                        for (int i = valueStart; i < valueStart + valueLength; i++)
                        {
                            int digit = _xml[i] - '0';
                            if (digit < 0 || digit > 9)
                            {
                                return false;
                            }

                            id = (id * 10) + digit;
                        }

                        RefId = id;
                        return true;
                    }

                    if (IsName(nameStart, nameLength, "Version") && Version is null)
                    {
                        Version = reader.Text(valueStart, valueLength, entities);
                        return true;
                    }

                    if (IsName(nameStart, nameLength, "xmlns") && Namespace is null)
                    {
                        Namespace = reader.Text(valueStart, valueLength, entities);
                        return true;
                    }

                    return false;
                }

                [MethodImpl(Optimized)]
                private bool IsName(int start, int length, string name) =>
                    length == name.Length && string.CompareOrdinal(_xml, start, name, 0, length) == 0;
            }

            /// <summary>A type name list (&lt;TN&gt;) as PSSerializer gives it to objects: with the Deserialized. prefix.</summary>
            private sealed class TypeNames
            {
                public TypeNames(string[] names, bool cimInstance)
                {
                    Names = names;
                    Shared = PSObjectInternals.NewTypeNames(names);
                    CimInstance = cimInstance;
                }

                /// <summary>The names, prefixed.</summary>
                public string[] Names { get; }

                /// <summary>The names in PowerShell's form, which each object gets a copy of.</summary>
                public object Shared { get; }

                /// <summary>Whether one of them makes PSSerializer rebuild a CIM instance.</summary>
                public bool CimInstance { get; }

                /// <summary>Whether PSSerializer would convert such objects (known after the first one is built).</summary>
                public bool? Rehydrated { get; set; }
            }
        }
    }
}
