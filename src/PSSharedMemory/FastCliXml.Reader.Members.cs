using System.Management.Automation;
using System.Runtime.CompilerServices;

namespace PSSharedMemory
{
    /// <content>The reader's objects: building one from what was read, and its note properties.</content>
    internal static partial class FastCliXml
    {
        private sealed partial class Reader
        {
            // The object with what was read, known by its RefId from now on; or null when the type table would turn
            // objects of its type names into something else (PSSerializer rehydrates them).
            [MethodImpl(Optimized)]
            private PSObject? Build(Tag tag, PSObject obj, TypeNames? typeNames, string? text, object? value)
            {
                if (typeNames is not null)
                {
                    PSObjectInternals.SetTypeNames(obj, typeNames.Shared);
                }

                if (text is not null)
                {
                    PSObjectInternals.SetDeserializedText(obj, text);
                    Note("ToString");
                }

                if (value is not null)
                {
                    PSObjectInternals.SetBase(obj, value, takeItsTypeNames: typeNames is null);
                }

                // A type whose deserialized form has PSStandardMembers (TargetTypeForDeserialization) is PSSerializer's.
                bool rehydrated;
                if (typeNames is null)
                {
                    rehydrated = obj.Members["PSStandardMembers"] is not null;
                }
                else
                {
                    typeNames.Rehydrated ??= typeNames.CimInstance || obj.Members["PSStandardMembers"] is not null;
                    rehydrated = typeNames.Rehydrated.Value;
                }

                if (rehydrated)
                {
                    return null;
                }

                if (tag.RefId >= 0)
                {
                    _objects[tag.RefId] = obj;
                }

                return obj;
            }

            // Tells PowerShell's member binders about an instance member name, once per read.
            private void Note(string name)
            {
                if (_notedNames.Add(name))
                {
                    PSObjectInternals.NoteInstanceMember(name);
                }
            }

            [MethodImpl(Optimized)]
            private bool TryReadMembers(Tag tag, PSObject target)
            {
                if (tag.IsEmpty)
                {
                    return true;
                }

                while (true)
                {
                    SkipWhitespace();
                    if (AtEndTag())
                    {
                        return TryReadEndTag(tag);
                    }

                    if (!TryReadStartTag(out Tag member) || member.Name is null || member.Name.Length == 0 || member.Is("MS")
                        || !TryReadValue(member, out object? value))
                    {
                        return false;
                    }

                    // As PSSerializer adds a note: no check for reserved names, and a repeated name replaces the note.
                    PSObjectInternals.AddInstanceMember(target, new PSNoteProperty(member.Name, value));
                    Note(member.Name);
                }
            }
        }
    }
}
