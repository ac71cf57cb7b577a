using System;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using System.Text;
using System.Xml;

namespace PSSharedMemory
{
    /// <summary>
    /// Writes CliXml for the commonest payload, PSCustomObjects whose properties are plain values
    /// (what Select-Object and [pscustomobject]@{...} make), several times faster than PSSerializer.
    /// The output is ordinary CliXml that PSSerializer reads back into exactly what it would have made
    /// itself; anything else (other types, script properties, wrapped values with members of their
    /// own, a repeated object) returns null and goes through PSSerializer.
    /// </summary>
    internal static class FastCliXml
    {
        private const string Header = "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">";

        /// <summary>CliXml for <paramref name="items"/> as top-level objects, or null when one needs PSSerializer.</summary>
        public static string? TrySerialize(IReadOnlyList<object?> items)
        {
            if (items.Count == 0)
            {
                return null;
            }

            var builder = new StringBuilder(Header, 256 * items.Count);
            var typeNameIds = new Dictionary<string, int>(StringComparer.Ordinal);
            var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
            for (int i = 0; i < items.Count; i++)
            {
                if (!(items[i] is PSObject item) || !(item.ImmediateBaseObject is PSCustomObject) || !seen.Add(item))
                {
                    return null;
                }

                if (!TryWriteObject(builder, item, i, typeNameIds))
                {
                    return null;
                }
            }

            return builder.Append("</Objs>").ToString();
        }

        private static bool TryWriteObject(StringBuilder builder, PSObject item, int refId, Dictionary<string, int> typeNameIds)
        {
            builder.Append("<Obj RefId=\"").Append(refId.ToString(CultureInfo.InvariantCulture)).Append("\">");

            string typeNames = string.Join("\n", item.TypeNames);
            if (typeNameIds.TryGetValue(typeNames, out int typeNameId))
            {
                builder.Append("<TNRef RefId=\"").Append(typeNameId.ToString(CultureInfo.InvariantCulture)).Append("\" />");
            }
            else
            {
                typeNameId = typeNameIds.Count;
                typeNameIds.Add(typeNames, typeNameId);
                builder.Append("<TN RefId=\"").Append(typeNameId.ToString(CultureInfo.InvariantCulture)).Append("\">");
                foreach (string typeName in item.TypeNames)
                {
                    builder.Append("<T>");
                    AppendEscaped(builder, Encode(typeName), attribute: false);
                    builder.Append("</T>");
                }

                builder.Append("</TN>");
            }

            // A member set (PSStandardMembers) can change how PSSerializer writes the object; leave those to it.
            // Script, code and alias properties are caught below, as properties that are not note properties.
            if (item.Members["PSStandardMembers"] is not null)
            {
                return false;
            }

            builder.Append("<MS>");
            foreach (PSPropertyInfo property in item.Properties)
            {
                if (!(property is PSNoteProperty) || !TryAppendValue(builder, property.Name, property.Value))
                {
                    return false;
                }
            }

            builder.Append("</MS></Obj>");
            return true;
        }

        private static bool TryAppendValue(StringBuilder builder, string name, object? value)
        {
            if (value is PSObject wrapped)
            {
                // A wrapped value serializes as its base value only when no property was added to the
                // wrapper (the base type's own .NET properties count as "instance" too, so skip those).
                foreach (PSPropertyInfo property in wrapped.Properties)
                {
                    if (property.IsInstance && property.MemberType != PSMemberTypes.Property)
                    {
                        return false;
                    }
                }

                value = wrapped.ImmediateBaseObject;
                if (value is PSCustomObject)
                {
                    return false;
                }
            }

            string tag;
            string text;
            switch (value)
            {
                case null:
                    builder.Append("<Nil N=\"");
                    AppendEscaped(builder, Encode(name), attribute: true);
                    builder.Append("\" />");
                    return true;
                case string s: tag = "S"; text = Encode(s); break;
                case int v: tag = "I32"; text = XmlConvert.ToString(v); break;
                case long v: tag = "I64"; text = XmlConvert.ToString(v); break;
                case bool v: tag = "B"; text = XmlConvert.ToString(v); break;
                case double v: tag = "Db"; text = XmlConvert.ToString(v); break;
                case DateTime v: tag = "DT"; text = XmlConvert.ToString(v, XmlDateTimeSerializationMode.RoundtripKind); break;
                case decimal v: tag = "D"; text = XmlConvert.ToString(v); break;
                case float v: tag = "Sg"; text = XmlConvert.ToString(v); break;
                case Guid v: tag = "G"; text = XmlConvert.ToString(v); break;
                case TimeSpan v: tag = "TS"; text = XmlConvert.ToString(v); break;
                case char v: tag = "C"; text = ((int)v).ToString(CultureInfo.InvariantCulture); break;
                case byte v: tag = "By"; text = XmlConvert.ToString(v); break;
                case sbyte v: tag = "SB"; text = XmlConvert.ToString(v); break;
                case short v: tag = "I16"; text = XmlConvert.ToString(v); break;
                case ushort v: tag = "U16"; text = XmlConvert.ToString(v); break;
                case uint v: tag = "U32"; text = XmlConvert.ToString(v); break;
                case ulong v: tag = "U64"; text = XmlConvert.ToString(v); break;
                default: return false;
            }

            builder.Append('<').Append(tag).Append(" N=\"");
            AppendEscaped(builder, Encode(name), attribute: true);
            builder.Append("\">");
            AppendEscaped(builder, text, attribute: false);
            builder.Append("</").Append(tag).Append('>');
            return true;
        }

        /// <summary>
        /// CliXml's own escape, as PSSerializer applies it: control characters, surrogates and an '_'
        /// that starts "_x" become _xHHHH_.
        /// </summary>
        private static string Encode(string s)
        {
            int first = -1;
            for (int i = 0; i < s.Length; i++)
            {
                if (NeedsEncoding(s, i))
                {
                    first = i;
                    break;
                }
            }

            if (first < 0)
            {
                return s;
            }

            var encoded = new StringBuilder(s.Length + 16);
            encoded.Append(s, 0, first);
            for (int i = first; i < s.Length; i++)
            {
                if (NeedsEncoding(s, i))
                {
                    encoded.Append("_x").Append(((int)s[i]).ToString("X4", CultureInfo.InvariantCulture)).Append('_');
                }
                else
                {
                    encoded.Append(s[i]);
                }
            }

            return encoded.ToString();
        }

        private static bool NeedsEncoding(string s, int i)
        {
            char c = s[i];
            return c <= '\u001F'
                || (c >= '\u007F' && c <= '\u009F')
                || (c >= '\uD800' && c <= '\uDFFF')
                || (c == '_' && i + 1 < s.Length && (s[i + 1] == 'x' || s[i + 1] == 'X'));
        }

        private static void AppendEscaped(StringBuilder builder, string text, bool attribute)
        {
            foreach (char c in text)
            {
                switch (c)
                {
                    case '&': builder.Append("&amp;"); break;
                    case '<': builder.Append("&lt;"); break;
                    case '>': builder.Append("&gt;"); break;
                    case '"' when attribute: builder.Append("&quot;"); break;
                    default: builder.Append(c); break;
                }
            }
        }

        private sealed class ReferenceEqualityComparer : IEqualityComparer<object>
        {
            public static readonly ReferenceEqualityComparer Instance = new ReferenceEqualityComparer();

            public new bool Equals(object? x, object? y) => ReferenceEquals(x, y);

            public int GetHashCode(object obj) => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);
        }
    }
}
