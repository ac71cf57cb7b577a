using System;
using System.Collections.Generic;

namespace PSSharedMemory
{
    /// <content>The reader's type name lists: TN elements, and TNRef elements that stand for one read before.</content>
    internal static partial class FastCliXml
    {
        private sealed partial class Reader
        {
            private TypeNames? TryReadTypeNames(Tag tag)
            {
                var names = new List<string>();
                bool cimInstance = false;
                if (!tag.IsEmpty)
                {
                    while (true)
                    {
                        SkipWhitespace();
                        if (AtEndTag())
                        {
                            if (!TryReadEndTag(tag))
                            {
                                return null;
                            }

                            break;
                        }

                        if (!TryReadStartTag(out Tag item) || !item.Is("T") || item.Name is not null || item.RefId >= 0)
                        {
                            return null;
                        }

                        string name = string.Empty;
                        if (!item.IsEmpty)
                        {
                            if (!TryReadText(out int start, out int length, out bool entities) || !TryReadEndTag(item))
                            {
                                return null;
                            }

                            name = DecodeName(Text(start, length, entities));
                        }

                        if (name.Length == 0)
                        {
                            continue;
                        }

                        if (!name.StartsWith(DeserializedPrefix, StringComparison.OrdinalIgnoreCase))
                        {
                            name = DeserializedPrefix + name;
                        }

                        cimInstance |= string.Equals(name, CimInstanceTypeName, StringComparison.OrdinalIgnoreCase);
                        names.Add(name);
                    }
                }

                var typeNames = new TypeNames(names.ToArray(), cimInstance);
                if (tag.RefId >= 0)
                {
                    _typeNames[tag.RefId] = typeNames;
                }

                return typeNames;
            }

            private TypeNames? TryReadTypeNamesReference(Tag tag)
            {
                if (tag.RefId < 0 || !_typeNames.TryGetValue(tag.RefId, out TypeNames? typeNames) || !(tag.IsEmpty || TryReadEndTag(tag)))
                {
                    return null;
                }

                return typeNames;
            }

            private static string MaskPrefix(string typeName) =>
                typeName.StartsWith(DeserializedPrefix, StringComparison.OrdinalIgnoreCase) ? typeName.Substring(DeserializedPrefix.Length) : typeName;
        }
    }
}
