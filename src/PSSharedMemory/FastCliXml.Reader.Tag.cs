using System;
using System.Runtime.CompilerServices;

namespace PSSharedMemory
{
    /// <content>What the reader keeps of an element: a start tag as read, and a type name list as PSSerializer gives it to objects.</content>
    internal static partial class FastCliXml
    {
        private sealed partial class Reader
        {
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
