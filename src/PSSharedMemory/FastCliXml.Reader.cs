using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Xml;

namespace PSSharedMemory
{
    /// <content>The reader: what PSSerializer.DeserializeAsList makes of CliXml, for the shapes the writer writes.</content>
    internal static partial class FastCliXml
    {
        /// <summary>
        /// The objects <paramref name="xml"/> holds, exactly as PSSerializer.DeserializeAsList would return them, or
        /// null when it holds anything the fast reader does not read (PSSerializer then reads, or refuses, it).
        /// </summary>
        public static object[]? TryDeserialize(string xml)
        {
            object[]? objects = null;
            try
            {
                if (PSObjectInternals.Available)
                {
                    objects = new Reader(xml).TryRead();
                }
            }
            catch (Exception e) when (!(e is OutOfMemoryException))
            {
                // Whatever the fast reader cannot make sense of, PSSerializer reads or reports itself.
                objects = null;
            }

            Interlocked.Increment(ref objects is null ? ref s_fallbackReads : ref s_fastReads);
            return objects;
        }

        /// <summary>
        /// A forward-only parser over the CliXml text. It reads the XML that PSSerializer's own reader would read the
        /// same way (elements in the CliXml namespace, double- or single-quoted attributes, the predefined and
        /// numeric entities, whitespace between elements) and gives up on the rest: comments, CDATA, declarations,
        /// prefixes, line breaks that XML would normalize, and every CliXml element it does not build.
        /// </summary>
        private sealed partial class Reader
        {
            private const string DeserializedPrefix = "Deserialized.";
            private const string CimInstanceTypeName = "Deserialized.Microsoft.Management.Infrastructure.CimInstance";
            private const int MaxNesting = 40;

            private readonly string _xml;
            private readonly Dictionary<int, PSObject?> _objects = new Dictionary<int, PSObject?>();
            private readonly Dictionary<int, TypeNames> _typeNames = new Dictionary<int, TypeNames>();
            private readonly string?[] _nameCache = new string?[256];
            private readonly HashSet<string> _notedNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            private int _pos;
            private int _nesting;

            public Reader(string xml)
            {
                _xml = xml;
            }

            /// <summary>The top-level objects, or null.</summary>
            [MethodImpl(Optimized)]
            public object[]? TryRead()
            {
                SkipWhitespace();
                if (!TryReadStartTag(out Tag root, isRoot: true) || !root.Is("Objs") || root.Version != "1.1.0.1" || root.Namespace != Namespace || root.Name is not null || root.RefId >= 0)
                {
                    return null;
                }

                // A null item is a null in the array, as PSSerializer returns it.
                var objects = new List<object>();
                if (!TryReadValues(root, objects))
                {
                    return null;
                }

                SkipWhitespace();
                return _pos == _xml.Length ? objects.ToArray() : null;
            }

            // One object whose start tag was read: a known primitive, a null, a reference or an <Obj>.
            [MethodImpl(Optimized)]
            private bool TryReadValue(Tag tag, out object? value)
            {
                value = null;
                if (tag.Is("Obj"))
                {
                    PSObject? obj = TryReadObject(tag);
                    value = obj;
                    return obj is not null;
                }

                if (tag.Is("Nil"))
                {
                    return tag.IsEmpty || TryReadEndTag(tag);
                }

                if (tag.Is("Ref"))
                {
                    if (tag.RefId < 0 || !_objects.TryGetValue(tag.RefId, out PSObject? referenced) || referenced is null)
                    {
                        return false;
                    }

                    value = referenced;
                    return tag.IsEmpty || TryReadEndTag(tag);
                }

                return TryReadPrimitive(tag, out value);
            }

            // <Obj>: type names, then a ToString, then a value (a primitive, a list or a dictionary) or none (a property
            // bag), then notes; built in that order, as PSSerializer builds it.
            [MethodImpl(Optimized)]
            private PSObject? TryReadObject(Tag tag)
            {
                if (++_nesting > MaxNesting)
                {
                    return null;
                }

                if (tag.RefId >= 0)
                {
                    // Known, but not yet built: a reference to it from inside (a list holding itself) is left to PSSerializer.
                    _objects[tag.RefId] = null;
                }

                TypeNames? typeNames = null;
                string? text = null;
                PSObject? result = null;
                bool members = false;
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

                        if (!TryReadStartTag(out Tag child) || child.Name is not null)
                        {
                            return null;
                        }

                        if (child.Is("TN") || child.Is("TNRef"))
                        {
                            if (typeNames is not null || text is not null || result is not null)
                            {
                                return null;
                            }

                            typeNames = child.Is("TN") ? TryReadTypeNames(child) : TryReadTypeNamesReference(child);
                            if (typeNames is null)
                            {
                                return null;
                            }
                        }
                        else if (child.RefId >= 0)
                        {
                            // Only type names carry a RefId inside an object.
                            return null;
                        }
                        else if (child.Is("ToString"))
                        {
                            if (text is not null || result is not null || !PSObjectInternals.CanBuildValues)
                            {
                                return null;
                            }

                            text = string.Empty;
                            if (!child.IsEmpty)
                            {
                                if (!TryReadText(out int start, out int length, out bool entities) || !TryReadEndTag(child))
                                {
                                    return null;
                                }

                                text = DecodeName(Text(start, length, entities));
                            }
                        }
                        else if (child.Is("MS"))
                        {
                            if (members)
                            {
                                return null;
                            }

                            members = true;
                            if (result is null && (typeNames is not null || text is not null))
                            {
                                result = Build(tag, new PSObject(), typeNames, text, null);
                            }

                            if (result is null || !TryReadMembers(child, result))
                            {
                                return null;
                            }
                        }
                        else if (IsPrimitive(child))
                        {
                            if (result is not null || !PSObjectInternals.CanBuildValues || !TryReadPrimitive(child, out object? value))
                            {
                                return null;
                            }

                            result = Build(tag, new PSObject(), typeNames, text, value);
                            if (result is null)
                            {
                                return null;
                            }
                        }
                        else
                        {
                            // PSSerializer writes no ToString for lists and dictionaries, and always their type names.
                            if (result is not null || text is not null || typeNames is null)
                            {
                                return null;
                            }

                            object? container = TryReadContainer(child, typeNames);
                            result = container is null ? null : Build(tag, new PSObject(container), typeNames, null, null);
                            if (result is null)
                            {
                                return null;
                            }
                        }
                    }
                }

                // Without type names PSSerializer would consult the type table for the bare object's own: leave it that.
                if (result is null && (typeNames is not null || text is not null))
                {
                    result = Build(tag, new PSObject(), typeNames, text, null);
                }

                _nesting--;
                return result;
            }
            // CliXml's own escape (_xHHHH_), undone as PSSerializer undoes it.
            [MethodImpl(Optimized)]
            private static string DecodeName(string text) => text.IndexOf('_') < 0 ? text : XmlConvert.DecodeName(text);
        }
    }
}
