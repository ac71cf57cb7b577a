using System;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace PSSharedMemory
{
    /// <content>The writer's output: elements, references, type name lists and encoded text, appended to the CliXml.</content>
    internal static partial class FastCliXml
    {
        private sealed partial class Writer
        {
            [MethodImpl(Optimized)]
            private bool TryWriteString(string tag, string? name, string text)
            {
                WriteString(tag, name, text);
                return true;
            }

            // A text element, encoded as PSSerializer encodes it (control characters, surrogates and "_x" as _xHHHH_).
            [MethodImpl(Optimized)]
            private void WriteString(string tag, string? name, string text)
            {
                StartElement(tag, name).Append('>');
                AppendEncoded(text, attribute: false);
                _xml.Append("</").Append(tag).Append('>');
            }

            [MethodImpl(Optimized)]
            private bool TryWriteReference(object source, string? name)
            {
                if (!_refIds.TryGetValue(source, out int refId))
                {
                    return false;
                }

                StartElement("Ref", name).Append(" RefId=\"").Append(refId.ToString(CultureInfo.InvariantCulture)).Append("\" />");
                return true;
            }

            [MethodImpl(Optimized)]
            private void StartObject(object source, string? name)
            {
                int refId = _refIds.Count;
                _refIds.Add(source, refId);
                StartElement("Obj", name).Append(" RefId=\"").Append(refId.ToString(CultureInfo.InvariantCulture)).Append("\">");
            }

            [MethodImpl(Optimized)]
            private StringBuilder StartElement(string tag, string? name)
            {
                _xml.Append('<').Append(tag);
                if (name is not null)
                {
                    _xml.Append(" N=\"");
                    AppendEncoded(name, attribute: true);
                    _xml.Append('"');
                }

                return _xml;
            }

            [MethodImpl(Optimized)]
            private void WriteTypeNames(Collection<string> typeNames)
            {
                if (typeNames.Count == 0)
                {
                    return;
                }

                string key = KeyOf(typeNames);
                if (_typeNameIds.TryGetValue(key, out int id))
                {
                    _xml.Append("<TNRef RefId=\"").Append(id.ToString(CultureInfo.InvariantCulture)).Append("\" />");
                    return;
                }

                id = _typeNameIds.Count;
                _typeNameIds.Add(key, id);
                _xml.Append("<TN RefId=\"").Append(id.ToString(CultureInfo.InvariantCulture)).Append("\">");
                foreach (string typeName in typeNames)
                {
                    _xml.Append("<T>");
                    AppendEncoded(typeName, attribute: false);
                    _xml.Append("</T>");
                }

                _xml.Append("</TN>");
            }

            // PSSerializer shares a <TN> between type name lists whose names joined with "@@@" are the same.
            [MethodImpl(Optimized)]
            private string KeyOf(Collection<string> typeNames)
            {
                if (!ReferenceEquals(typeNames, _lastTypeNames))
                {
                    _lastTypeNamesKey = string.Join("@@@", typeNames);
                    _lastTypeNames = typeNames;
                }

                return _lastTypeNamesKey;
            }

            // Text as PSSerializer writes it: CliXml's own escape (control characters, surrogates and an '_' that
            // starts "_x" become _xHHHH_), then XML's.
            [MethodImpl(Optimized)]
            private void AppendEncoded(string text, bool attribute)
            {
                int start = 0;
                for (int i = 0; i < text.Length; i++)
                {
                    char c = text[i];
                    string? replacement;
                    if (c > '>' && c < '\u007F' && c != '_')
                    {
                        continue;
                    }

                    if (c >= '\uFFFE')
                    {
                        // Not an XML character, and CliXml's escape leaves it: PSSerializer's XmlWriter refuses it.
                        _invalid = true;
                    }

                    if (c <= '\u001F' || (c >= '\u007F' && c <= '\u009F') || (c >= '\uD800' && c <= '\uDFFF')
                        || (c == '_' && i + 1 < text.Length && (text[i + 1] == 'x' || text[i + 1] == 'X')))
                    {
                        replacement = null;
                    }
                    else if (c == '&')
                    {
                        replacement = "&amp;";
                    }
                    else if (c == '<')
                    {
                        replacement = "&lt;";
                    }
                    else if (c == '>')
                    {
                        replacement = "&gt;";
                    }
                    else if (c == '"' && attribute)
                    {
                        replacement = "&quot;";
                    }
                    else
                    {
                        continue;
                    }

                    _xml.Append(text, start, i - start);
                    if (replacement is null)
                    {
                        _xml.Append("_x").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture)).Append('_');
                    }
                    else
                    {
                        _xml.Append(replacement);
                    }

                    start = i + 1;
                }

                _xml.Append(text, start, text.Length - start);
            }
        }
    }
}
