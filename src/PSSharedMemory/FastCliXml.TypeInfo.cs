using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Collections.Specialized;
using System.Globalization;
using System.Management.Automation;

namespace PSSharedMemory
{
    /// <content>The writer's type table: how each .NET type is written, decided once per type.</content>
    internal static partial class FastCliXml
    {
        /// <summary>What the writer knows of a .NET type.</summary>
        private sealed class TypeInfo
        {
            public TypeInfo(Type type)
            {
                Tag = PrimitiveTag(type);
                if (Tag is not null)
                {
                    Kind = ValueKind.Primitive;
                }
                else if (type.IsEnum)
                {
                    Kind = ValueKind.Enum;
                    Underlying = Enum.GetUnderlyingType(type);
                }
                else if ((type.IsArray && type.GetArrayRank() == 1) || type == typeof(ArrayList)
                    || (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>)))
                {
                    Kind = ValueKind.List;
                }
                else if (type == typeof(Hashtable) || type == typeof(OrderedDictionary)
                    || (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>)))
                {
                    Kind = ValueKind.Dictionary;
                }

                // The names a wrapper of a value of this type starts with: its .NET type and base types.
                TypeNames = new Collection<string>();
                for (Type? t = type; t is not null; t = t.BaseType)
                {
                    TypeNames.Add(t.FullName!);
                }
            }

            /// <summary>How the writer writes values of the type.</summary>
            public ValueKind Kind { get; }

            /// <summary>The element a primitive is written as.</summary>
            public string? Tag { get; }

            /// <summary>An enum's underlying type.</summary>
            public Type? Underlying { get; }

            /// <summary>The type names of an unwrapped value of the type.</summary>
            public Collection<string> TypeNames { get; }

            // PSSerializer's known types, by exact type; XmlDocument, ProgressRecord and SecureString are left to it.
            private static string? PrimitiveTag(Type type)
            {
                if (type.IsEnum)
                {
                    return null;
                }

                switch (Type.GetTypeCode(type))
                {
                    case TypeCode.Boolean: return "B";
                    case TypeCode.Byte: return "By";
                    case TypeCode.Char: return "C";
                    case TypeCode.DateTime: return "DT";
                    case TypeCode.Decimal: return "D";
                    case TypeCode.Double: return "Db";
                    case TypeCode.Int16: return "I16";
                    case TypeCode.Int32: return "I32";
                    case TypeCode.Int64: return "I64";
                    case TypeCode.SByte: return "SB";
                    case TypeCode.Single: return "Sg";
                    case TypeCode.String: return "S";
                    case TypeCode.UInt16: return "U16";
                    case TypeCode.UInt32: return "U32";
                    case TypeCode.UInt64: return "U64";
                }

                return type == typeof(Guid) ? "G"
                    : type == typeof(TimeSpan) ? "TS"
                    : type == typeof(Uri) ? "URI"
                    : type == typeof(Version) ? "Version"
                    : type == typeof(byte[]) ? "BA"
                    : type == typeof(ScriptBlock) ? "SBK"
                    : null;
            }
        }

        /// <summary>How a value is written.</summary>
        private enum ValueKind
        {
            /// <summary>Not by the fast writer.</summary>
            Unknown,

            /// <summary>One element of PSSerializer's known types.</summary>
            Primitive,

            /// <summary>An object with type names, ToString and the underlying value.</summary>
            Enum,

            /// <summary>An object with type names and a list of items.</summary>
            List,

            /// <summary>An object with type names and key/value entries.</summary>
            Dictionary,
        }

        /// <summary>Compares objects by reference, as PSSerializer does to find an object written before.</summary>
        private sealed class ReferenceComparer : IEqualityComparer<object>
        {
            public static readonly ReferenceComparer Instance = new ReferenceComparer();

            public new bool Equals(object? x, object? y) => ReferenceEquals(x, y);

            public int GetHashCode(object obj) => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);
        }
    }
}
