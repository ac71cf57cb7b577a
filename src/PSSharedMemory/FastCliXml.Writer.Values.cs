using System;
using System.Globalization;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using System.Xml;

namespace PSSharedMemory
{
    /// <content>The writer's enums and primitives: what PSSerializer writes for a value with no properties of its own.</content>
    internal static partial class FastCliXml
    {
        private sealed partial class Writer
        {
            [MethodImpl(Optimized)]
            private bool TryWriteEnum(object source, object value, TypeInfo type, string? name)
            {
                if (TryWriteReference(source, name))
                {
                    return true;
                }

                if (!IsPlain(type.TypeNames))
                {
                    return false;
                }

                if (!_enumTexts.TryGetValue(value, out string? text))
                {
                    text = value.ToString();
                    _enumTexts.Add(value, text);
                }

                StartObject(source, name);
                WriteTypeNames(type.TypeNames);
                WriteString("ToString", null, text);
                object underlying = Convert.ChangeType(value, type.Underlying!, CultureInfo.InvariantCulture);
                if (!TryWritePrimitive(underlying, TypeOf(underlying), null))
                {
                    return false;
                }

                _xml.Append("</Obj>");
                return true;
            }

            [MethodImpl(Optimized)]
            private bool TryWritePrimitive(object value, TypeInfo type, string? name)
            {
                string tag = type.Tag!;
                string text;
                switch (value)
                {
                    case int v: text = v.ToString(CultureInfo.InvariantCulture); break;
                    case long v: text = v.ToString(CultureInfo.InvariantCulture); break;
                    case bool v: text = v ? "true" : "false"; break;
                    case double v: text = XmlConvert.ToString(v); break;
                    case DateTime v: text = XmlConvert.ToString(v, XmlDateTimeSerializationMode.RoundtripKind); break;
                    case decimal v: text = v.ToString(CultureInfo.InvariantCulture); break;
                    case float v: text = XmlConvert.ToString(v); break;
                    case Guid v: text = v.ToString(); break;
                    case TimeSpan v: text = XmlConvert.ToString(v); break;
                    case char v: text = ((int)v).ToString(CultureInfo.InvariantCulture); break;
                    case byte v: text = v.ToString(CultureInfo.InvariantCulture); break;
                    case sbyte v: text = v.ToString(CultureInfo.InvariantCulture); break;
                    case short v: text = v.ToString(CultureInfo.InvariantCulture); break;
                    case ushort v: text = v.ToString(CultureInfo.InvariantCulture); break;
                    case uint v: text = v.ToString(CultureInfo.InvariantCulture); break;
                    case ulong v: text = v.ToString(CultureInfo.InvariantCulture); break;
                    case Version v: text = v.ToString(); break;
                    case byte[] v: text = Convert.ToBase64String(v); break;
                    case string v: return TryWriteString(tag, name, v);
                    case Uri v: return TryWriteString(tag, name, v.ToString());
                    case ScriptBlock v: return TryWriteString(tag, name, v.ToString());
                    default: return false;
                }

                StartElement(tag, name).Append('>').Append(text).Append("</").Append(tag).Append('>');
                return true;
            }
        }
    }
}
