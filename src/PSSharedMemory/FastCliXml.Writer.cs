using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;

namespace PSSharedMemory
{
    /// <content>The writer: what PSSerializer.Serialize(value, depth) writes, for the shapes it knows.</content>
    internal static partial class FastCliXml
    {
        [ThreadStatic]
        private static Writer? t_writer;

        /// <summary>
        /// CliXml for <paramref name="value"/> that deserializes exactly as PSSerializer.Serialize(value, depth)
        /// would for any depth (nothing it writes is cut by depth), or null when PSSerializer must write it.
        /// </summary>
        public static string? TrySerialize(object? value)
        {
            string? xml = null;
            if (PSObjectInternals.Available)
            {
                xml = TakeWriter().TryWrite(value);
            }

            Interlocked.Increment(ref xml is null ? ref s_fallbackWrites : ref s_fastWrites);
            return xml;
        }

        /// <summary>
        /// The same CliXml as <see cref="TrySerialize"/>, as UTF-8: the first <paramref name="count"/> bytes of
        /// the array returned, which may be reused for the next payload once given to <see cref="ReturnUtf8"/>.
        /// Null when PSSerializer must write it.
        /// </summary>
        public static byte[]? TrySerializeUtf8(object? value, out int count)
        {
            byte[]? utf8 = null;
            count = 0;
            if (PSObjectInternals.Available)
            {
                utf8 = TakeWriter().TryWriteUtf8(value, out count);
            }

            Interlocked.Increment(ref utf8 is null ? ref s_fallbackWrites : ref s_fastWrites);
            return utf8;
        }

        /// <summary>Gives back an array of <see cref="TrySerializeUtf8"/> once its bytes are written, for this thread's next payload.</summary>
        public static void ReturnUtf8(byte[] utf8) => t_writer?.Keep(utf8);

        // Each thread keeps a writer for its payloads; one already busy on this thread is never shared.
        private static Writer TakeWriter()
        {
            Writer writer = t_writer is { Busy: false } idle ? idle : new Writer();
            t_writer ??= writer;
            return writer;
        }

        /// <summary>One payload's writing state: the text so far and the reference ids given out.</summary>
        private sealed partial class Writer
        {
            // PSSerializer replaces what lies 50 levels down; stay well above that.
            private const int MaxNesting = 40;

            // A builder that grew past this is not kept for the next payload.
            private const int MaxKeptCapacity = 4 * 1024 * 1024;

            private static readonly ConcurrentDictionary<Type, TypeInfo> s_types = new ConcurrentDictionary<Type, TypeInfo>();

            private readonly StringBuilder _xml = new StringBuilder(4096);
            private readonly Dictionary<object, int> _refIds = new Dictionary<object, int>(ReferenceComparer.Instance);
            private readonly Dictionary<string, int> _typeNameIds = new Dictionary<string, int>(StringComparer.Ordinal);
            private readonly Dictionary<string, bool> _plainTypeNames = new Dictionary<string, bool>(StringComparer.Ordinal);
            private readonly Dictionary<object, string> _enumTexts = new Dictionary<object, string>();
            private Collection<string>? _lastTypeNames;
            private string _lastTypeNamesKey = string.Empty;
            private int _nesting;
            private bool _invalid;
            private char[]? _slice;
            private Encoder? _encoder;
            private byte[]? _utf8;

            /// <summary>True while a payload is being written.</summary>
            public bool Busy { get; private set; }

            /// <summary>The payload's CliXml, or null when some part of it needs PSSerializer.</summary>
            [MethodImpl(Optimized)]
            public string? TryWrite(object? value)
            {
                Busy = true;
                try
                {
                    return TryBuild(value) ? _xml.ToString() : null;
                }
                finally
                {
                    Reset();
                }
            }

            /// <summary>
            /// The payload's CliXml as UTF-8 (the first <paramref name="count"/> bytes of the array), or null when
            /// some part of it needs PSSerializer. A large payload's string would be one more copy, on the large
            /// object heap, which the next garbage collections pay for.
            /// </summary>
            [MethodImpl(Optimized)]
            public byte[]? TryWriteUtf8(object? value, out int count)
            {
                Busy = true;
                try
                {
                    count = 0;
                    return TryBuild(value) ? EncodeUtf8(out count) : null;
                }
                finally
                {
                    Reset();
                }
            }

            private bool TryBuild(object? value)
            {
                _xml.Append(Header);
                if (!TryWriteObject(value, null) || _invalid)
                {
                    return false;
                }

                _xml.Append("</Objs>");
                return true;
            }

            /// <summary>
            /// The text built so far as UTF-8, through a small buffer of characters copied out of the builder, into
            /// the array given back with <see cref="ReturnUtf8"/> when it is large enough (this writer no longer
            /// holds it), else a new one.
            /// </summary>
            private byte[] EncodeUtf8(out int count)
            {
                const int Slice = 8192;
                char[] chars = _slice ??= new char[Slice];
                Encoder encoder = _encoder ??= Payload.Utf8.GetEncoder();
                encoder.Reset();
                int total = 0;
                for (int start = 0; start < _xml.Length; start += Slice)
                {
                    int length = Math.Min(Slice, _xml.Length - start);
                    _xml.CopyTo(start, chars, 0, length);
                    total += encoder.GetByteCount(chars, 0, length, flush: start + length == _xml.Length);
                }

                byte[] utf8 = _utf8 is { } kept && kept.Length >= total ? kept : new byte[total];
                _utf8 = null;
                encoder.Reset();
                count = 0;
                for (int start = 0; start < _xml.Length; start += Slice)
                {
                    int length = Math.Min(Slice, _xml.Length - start);
                    _xml.CopyTo(start, chars, 0, length);
                    count += encoder.GetBytes(chars, 0, length, utf8, count, flush: start + length == _xml.Length);
                }

                return utf8;
            }

            /// <summary>Keeps <paramref name="utf8"/> for the next payload, unless it is larger than a kept builder may be.</summary>
            public void Keep(byte[] utf8)
            {
                if (utf8.Length <= MaxKeptCapacity && (_utf8 is null || _utf8.Length < utf8.Length))
                {
                    _utf8 = utf8;
                }
            }

            private void Reset()
            {
                _xml.Clear();
                if (_xml.Capacity > MaxKeptCapacity)
                {
                    _xml.Capacity = 4096;
                }

                _refIds.Clear();
                _typeNameIds.Clear();
                _plainTypeNames.Clear();
                _enumTexts.Clear();
                _lastTypeNames = null;
                _nesting = 0;
                _invalid = false;
                Busy = false;
            }

            /// <summary>True when the type names PowerShell keeps for <paramref name="value"/> are its type's own: its class and base classes.</summary>
            private static bool HasOwnTypeNames(object value)
            {
                Collection<string> names = PSObject.AsPSObject(value).TypeNames;
                int i = 0;
                for (Type? type = value.GetType(); type is not null; type = type.BaseType, i++)
                {
                    if (i >= names.Count || !string.Equals(names[i], type.FullName, StringComparison.Ordinal))
                    {
                        return false;
                    }
                }

                return i == names.Count;
            }

            // One value: an item (name null) or a property. Mirrors PSSerializer's WriteOneObject for the kinds below.
            [MethodImpl(Optimized)]
            private bool TryWriteObject(object? source, string? name)
            {
                if (source is null)
                {
                    StartElement("Nil", name).Append(" />");
                    return true;
                }

                if (source is string text)
                {
                    // A string is never written as anything else: its members live on its own wrappers.
                    WriteString("S", name, text);
                    return true;
                }

                object value = source;
                PSObject? wrapper = source as PSObject;
                if (wrapper is not null)
                {
                    value = wrapper.ImmediateBaseObject;
                    if (value is PSCustomObject)
                    {
                        return TryWriteCustomObject(wrapper, name);
                    }

                    if (value is PSObject || PSObjectInternals.HasDeserializerState(wrapper))
                    {
                        return false;
                    }
                }
                else if (PSObjectInternals.HasInstanceTypeNames(source) && !HasOwnTypeNames(source))
                {
                    // Type names changed through another wrapper of this very value. (PowerShell also keeps
                    // them unchanged for a value whose type names were only looked at, for example by the
                    // parameter binder; and it shares one box among equal small integers.)
                    return false;
                }

                TypeInfo type = TypeOf(value);
                if (type.Kind == ValueKind.Unknown)
                {
                    return false;
                }

                if (type.Kind == ValueKind.List || type.Kind == ValueKind.Dictionary)
                {
                    // Only a wrapper's own members are written after a container, so a bare one may have notes.
                    if (wrapper is not null && HasSerializableMembers(wrapper))
                    {
                        return false;
                    }

                    return TryWriteContainer(source, wrapper, value, type, name);
                }

                if (wrapper is not null && !IsDefault(PSObjectInternals.TypeNames(wrapper), type))
                {
                    return false;
                }

                if (type.Kind == ValueKind.Enum)
                {
                    return !HasSerializableMembers(source) && TryWriteEnum(source, value, type, name);
                }

                // A primitive with members of its own, even only those PowerShell adds when its members are looked
                // at, is an object to PSSerializer.
                return PSObjectInternals.InstanceMembers(source) is null && TryWritePrimitive(value, type, name);
            }

            [MethodImpl(Optimized)]
            private bool TryWriteCustomObject(PSObject item, string? name)
            {
                if (TryWriteReference(item, name))
                {
                    return true;
                }

                Collection<string> typeNames = PSObjectInternals.TypeNames(item);
                if (!IsPlain(typeNames) || PSObjectInternals.HasDeserializerState(item) || ++_nesting > MaxNesting)
                {
                    return false;
                }

                StartObject(item, name);
                WriteTypeNames(typeNames);
                PSMemberInfoCollection<PSMemberInfo>? members = PSObjectInternals.InstanceMembers(item);
                if (members is not null)
                {
                    bool any = false;
                    foreach (PSMemberInfo member in members)
                    {
                        if (!PSObjectInternals.ShouldSerialize(member))
                        {
                            continue;
                        }

                        if (member is PSNoteProperty note)
                        {
                            if (!any)
                            {
                                _xml.Append("<MS>");
                                any = true;
                            }

                            if (!TryWriteObject(note.Value, note.Name))
                            {
                                return false;
                            }
                        }
                        else if (!(member is PSMethodInfo) && !(member is PSPropertySet))
                        {
                            // Script, alias and code properties are evaluated, and member sets written, by PSSerializer.
                            return false;
                        }
                    }

                    if (any)
                    {
                        _xml.Append("</MS>");
                    }
                }

                _xml.Append("</Obj>");
                _nesting--;
                return true;
            }

            [MethodImpl(Optimized)]
            private bool TryWriteContainer(object source, PSObject? wrapper, object value, TypeInfo type, string? name)
            {
                if (TryWriteReference(source, name))
                {
                    return true;
                }

                if (++_nesting > MaxNesting)
                {
                    return false;
                }

                StartObject(source, name);
                WriteTypeNames(wrapper is null ? type.TypeNames : PSObjectInternals.TypeNames(wrapper));
                if (type.Kind == ValueKind.List)
                {
                    _xml.Append("<LST>");
                    foreach (object? item in (IEnumerable)value)
                    {
                        if (!TryWriteObject(item, null))
                        {
                            return false;
                        }
                    }

                    _xml.Append("</LST>");
                }
                else
                {
                    _xml.Append("<DCT>");
                    IDictionaryEnumerator entries = ((IDictionary)value).GetEnumerator();
                    while (entries.MoveNext())
                    {
                        _xml.Append("<En>");
                        if (!TryWriteObject(entries.Key, "Key") || !TryWriteObject(entries.Value, "Value"))
                        {
                            return false;
                        }

                        _xml.Append("</En>");
                    }

                    _xml.Append("</DCT>");
                }

                _xml.Append("</Obj>");
                _nesting--;
                return true;
            }
        }
    }
}
