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
            private static bool IsWhitespace(char c) => c == ' ' || c == '\n' || c == '\t' || c == '\r';

            // Element and attribute names of CliXml: ASCII letters and digits, and xmlns. A ':' (a prefix) is refused.
            [MethodImpl(Optimized)]
            private static bool IsNameChar(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        }
    }
}
