using System;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using System.Xml;

namespace PSSharedMemory
{
    /// <content>The reader's primitives: the elements of PSSerializer's known types, read as PSSerializer reads them.</content>
    internal static partial class FastCliXml
    {
        private sealed partial class Reader
        {
            // An element of PSSerializer's known types, read as PSSerializer reads it: with XmlConvert, text with
            // CliXml's own escape undone, a script block as its text.
            [MethodImpl(Optimized)]
            private bool TryReadPrimitive(Tag tag, out object? value)
            {
                value = null;
                int start;
                int length;
                bool entities;
                if (tag.IsEmpty)
                {
                    start = _pos;
                    length = 0;
                    entities = false;
                }
                else if (!TryReadText(out start, out length, out entities) || !TryReadEndTag(tag))
                {
                    return false;
                }

                switch (tag.Length)
                {
                    case 1:
                        switch (_xml[tag.Start])
                        {
                            case 'S': value = DecodeName(Text(start, length, entities)); return true;
                            case 'B': value = IsText(start, length, "true") || (!IsText(start, length, "false") && XmlConvert.ToBoolean(Text(start, length, entities))); return true;
                            case 'C': value = (char)XmlConvert.ToUInt16(Text(start, length, entities)); return true;
                            case 'D': value = XmlConvert.ToDecimal(Text(start, length, entities)); return true;
                            case 'G': value = XmlConvert.ToGuid(Text(start, length, entities)); return true;
                        }

                        return false;
                    case 2:
                        if (tag.Is("Db"))
                        {
                            value = XmlConvert.ToDouble(Text(start, length, entities));
                            return true;
                        }

                        if (tag.Is("DT"))
                        {
                            value = XmlConvert.ToDateTime(Text(start, length, entities), XmlDateTimeSerializationMode.RoundtripKind);
                            return true;
                        }

                        if (tag.Is("TS"))
                        {
                            value = XmlConvert.ToTimeSpan(Text(start, length, entities));
                            return true;
                        }

                        if (tag.Is("Sg"))
                        {
                            value = XmlConvert.ToSingle(Text(start, length, entities));
                            return true;
                        }

                        if (tag.Is("By"))
                        {
                            value = XmlConvert.ToByte(Text(start, length, entities));
                            return true;
                        }

                        if (tag.Is("SB"))
                        {
                            value = XmlConvert.ToSByte(Text(start, length, entities));
                            return true;
                        }

                        if (tag.Is("BA"))
                        {
                            value = Convert.FromBase64String(Text(start, length, entities));
                            return true;
                        }

                        return false;
                    case 3:
                        if (tag.Is("I32"))
                        {
                            value = !entities && TryParseInteger(start, length, out long small) && small >= int.MinValue && small <= int.MaxValue
                                ? (int)small
                                : XmlConvert.ToInt32(Text(start, length, entities));
                            return true;
                        }

                        if (tag.Is("I64"))
                        {
                            value = !entities && TryParseInteger(start, length, out long large) ? large : XmlConvert.ToInt64(Text(start, length, entities));
                            return true;
                        }

                        if (tag.Is("I16"))
                        {
                            value = XmlConvert.ToInt16(Text(start, length, entities));
                            return true;
                        }

                        if (tag.Is("U16"))
                        {
                            value = XmlConvert.ToUInt16(Text(start, length, entities));
                            return true;
                        }

                        if (tag.Is("U32"))
                        {
                            value = XmlConvert.ToUInt32(Text(start, length, entities));
                            return true;
                        }

                        if (tag.Is("U64"))
                        {
                            value = XmlConvert.ToUInt64(Text(start, length, entities));
                            return true;
                        }

                        if (tag.Is("URI"))
                        {
                            value = new Uri(DecodeName(Text(start, length, entities)), UriKind.RelativeOrAbsolute);
                            return true;
                        }

                        if (tag.Is("SBK"))
                        {
                            // PSSerializer reads a script block back as its text.
                            value = DecodeName(Text(start, length, entities));
                            return true;
                        }

                        return false;
                    case 7:
                        if (tag.Is("Version"))
                        {
                            value = new Version(Text(start, length, entities));
                            return true;
                        }

                        return false;
                }

                return false;
            }

            // The elements of PSSerializer's known types that the fast reader reads.
            [MethodImpl(Optimized)]
            private static bool IsPrimitive(Tag tag)
            {
                switch (tag.Length)
                {
                    case 1: return tag.Is("S") || tag.Is("B") || tag.Is("C") || tag.Is("D") || tag.Is("G");
                    case 2: return tag.Is("Db") || tag.Is("DT") || tag.Is("TS") || tag.Is("Sg") || tag.Is("By") || tag.Is("SB") || tag.Is("BA");
                    case 3: return tag.Is("I32") || tag.Is("I64") || tag.Is("I16") || tag.Is("U16") || tag.Is("U32") || tag.Is("U64") || tag.Is("URI") || tag.Is("SBK");
                    case 7: return tag.Is("Version");
                    default: return false;
                }
            }
        }
    }
}
