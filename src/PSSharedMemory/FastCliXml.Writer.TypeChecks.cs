using System;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Runtime.CompilerServices;

namespace PSSharedMemory
{
    /// <content>The writer's checks of the type table and of an object's own members, which decide whether the fast path may write it.</content>
    internal static partial class FastCliXml
    {
        private sealed partial class Writer
        {
            /// <summary>
            /// Whether the type table adds nothing to objects of these type names that PSSerializer would write or
            /// obey: no properties (their values are written), member sets (PSStandardMembers sets the depth,
            /// the serialization method or a target type), or ToString methods (an enum's ToString is written).
            /// </summary>
            [MethodImpl(Optimized)]
            private bool IsPlain(Collection<string> typeNames)
            {
                string key = KeyOf(typeNames);
                if (_plainTypeNames.TryGetValue(key, out bool plain))
                {
                    return plain;
                }

                var probe = new PSObject();
                Collection<string> probeNames = probe.TypeNames;
                probeNames.Clear();
                foreach (string typeName in typeNames)
                {
                    probeNames.Add(typeName);
                }

                plain = true;
                foreach (PSMemberInfo member in probe.Members)
                {
                    if (member is PSPropertyInfo || member is PSMemberSet
                        || (member is PSMethodInfo && !(member is PSMethod) && string.Equals(member.Name, "ToString", StringComparison.OrdinalIgnoreCase)))
                    {
                        plain = false;
                        break;
                    }
                }

                _plainTypeNames.Add(key, plain);
                return plain;
            }

            [MethodImpl(Optimized)]
            private static bool HasSerializableMembers(object value)
            {
                PSMemberInfoCollection<PSMemberInfo>? members = PSObjectInternals.InstanceMembers(value);
                if (members is not null)
                {
                    foreach (PSMemberInfo member in members)
                    {
                        if (PSObjectInternals.ShouldSerialize(member))
                        {
                            return true;
                        }
                    }
                }

                return false;
            }

            [MethodImpl(Optimized)]
            private static bool IsDefault(Collection<string> typeNames, TypeInfo type)
            {
                Collection<string> expected = type.TypeNames;
                if (typeNames.Count != expected.Count)
                {
                    return false;
                }

                for (int i = 0; i < expected.Count; i++)
                {
                    if (!string.Equals(typeNames[i], expected[i], StringComparison.Ordinal))
                    {
                        return false;
                    }
                }

                return true;
            }

            [MethodImpl(Optimized)]
            private static TypeInfo TypeOf(object value)
            {
                Type type = value.GetType();
                return s_types.TryGetValue(type, out TypeInfo? info) ? info : s_types.GetOrAdd(type, new TypeInfo(type));
            }
        }
    }
}
