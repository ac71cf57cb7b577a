using System;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// How segment names become file names and back, where the file system folds case (Windows, macOS) or
    /// opens devices for some names (Windows). See the file-name section of docs/segment-format.md.
    /// </summary>
    internal static class SegmentFileNames
    {
        /// <summary>Prefix of a file name whose part before the first '.' would otherwise be a DOS device name.</summary>
        public const string DeviceEscape = "^-";

        /// <summary>
        /// Marks a file name that spells capitals with a mask instead of '^' before each one: the lower-case name,
        /// this marker, then the capital positions as a 128-bit number in 32 hex digits (bit i: character i).
        /// </summary>
        public const string MaskMarker = "^~";

        private const int MaskDigits = SegmentName.MaxLength / 4;

        /// <summary>
        /// The longest file name (without the extension and the device prefix) the '^' spelling may produce; a
        /// longer one uses the mask, so every file name stays at most 164 characters and the temporary
        /// ".name.guid.creating" names stay within the 255 characters a file name may have.
        /// </summary>
        public const int MaxSpelledLength = SegmentName.MaxLength + 2 + MaskDigits;

        private static readonly string[] s_deviceNames =
        {
            "con", "prn", "aux", "nul",
            "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9",
            "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
        };

        /// <summary>
        /// The file name (without the extension) of a valid segment name. Where case counts and no name is a device (Linux), the name itself.
        /// Elsewhere the mapping is one-to-one and reversible (<see cref="Read"/>):
        /// capitals become '^' and the lower-case letter ("Chat" is "^chat"), or, when that would be longer than
        /// <see cref="MaxSpelledLength"/>, the lower-case name followed by <see cref="MaskMarker"/> and the capital
        /// positions in hex; on Windows a result that starts with a device name ("con", "nul.log") gets the
        /// <see cref="DeviceEscape"/> prefix. '^' followed by anything but a lower-case letter is never produced
        /// by the capital spelling, which keeps the three forms apart.
        /// </summary>
        public static string Spell(string name, bool foldsCase, bool reservesDeviceNames)
        {
            if (!foldsCase && !reservesDeviceNames)
            {
                return name;
            }

            string fileName = foldsCase ? SpellCapitals(name) : name;
            if (reservesDeviceNames && IsDeviceName(fileName))
            {
                fileName = DeviceEscape + fileName;
            }

            return fileName;
        }

        /// <summary>
        /// The segment name a file name (without the extension) stands for, or null when the file is not one
        /// that <see cref="Spell"/> writes.
        /// </summary>
        public static string? Read(string fileName, bool foldsCase, bool reservesDeviceNames)
        {
            if (!foldsCase && !reservesDeviceNames)
            {
                return fileName;
            }

            string spelled = fileName;
            if (reservesDeviceNames && spelled.StartsWith(DeviceEscape, StringComparison.Ordinal))
            {
                spelled = spelled.Substring(DeviceEscape.Length);
            }

            string? name = foldsCase ? ReadCapitals(spelled) : spelled;

            // Only the canonical spelling counts: this rejects "^chat" where '^' was not needed, a mask where
            // the '^' spelling fits, a device prefix on an ordinary name, and invalid names.
            return name is not null && SegmentName.IsValid(name) && Spell(name, foldsCase, reservesDeviceNames) == fileName ? name : null;
        }

        private static string SpellCapitals(string name)
        {
            int capitals = 0;
            foreach (char c in name)
            {
                if (IsCapital(c))
                {
                    capitals++;
                }
            }

            if (name.Length + capitals <= MaxSpelledLength)
            {
                var builder = new System.Text.StringBuilder(name.Length + capitals);
                foreach (char c in name)
                {
                    if (IsCapital(c))
                    {
                        builder.Append('^').Append((char)(c + ('a' - 'A')));
                    }
                    else
                    {
                        builder.Append(c);
                    }
                }

                return builder.ToString();
            }

            // Too long spelled out: the lower-case name, then the capitals' positions as a 128-bit mask
            // (names are at most 128 characters), most significant hex digit first.
            var mask = new char[MaskDigits];
            for (int digit = 0; digit < MaskDigits; digit++)
            {
                int value = 0;
                for (int bit = 0; bit < 4; bit++)
                {
                    int position = (MaskDigits - 1 - digit) * 4 + bit;
                    if (position < name.Length && IsCapital(name[position]))
                    {
                        value |= 1 << bit;
                    }
                }

                mask[digit] = "0123456789abcdef"[value];
            }

            return name.ToLowerInvariant() + MaskMarker + new string(mask);
        }

        private static string? ReadCapitals(string spelled)
        {
            int marker = spelled.IndexOf(MaskMarker, StringComparison.Ordinal);
            if (marker >= 0)
            {
                string lower = spelled.Substring(0, marker);
                string mask = spelled.Substring(marker + MaskMarker.Length);
                if (mask.Length != MaskDigits || lower.IndexOf('^') >= 0)
                {
                    return null;
                }

                char[] name = lower.ToCharArray();
                for (int digit = 0; digit < MaskDigits; digit++)
                {
                    int value = "0123456789abcdef".IndexOf(mask[digit]);
                    if (value < 0)
                    {
                        return null;
                    }

                    for (int bit = 0; bit < 4; bit++)
                    {
                        if ((value & (1 << bit)) == 0)
                        {
                            continue;
                        }

                        int position = (MaskDigits - 1 - digit) * 4 + bit;
                        if (position >= name.Length || name[position] < 'a' || name[position] > 'z')
                        {
                            return null;
                        }

                        name[position] = (char)(name[position] - ('a' - 'A'));
                    }
                }

                return new string(name);
            }

            var builder = new System.Text.StringBuilder(spelled.Length);
            for (int i = 0; i < spelled.Length; i++)
            {
                char c = spelled[i];
                if (c == '^')
                {
                    if (i + 1 >= spelled.Length || spelled[i + 1] < 'a' || spelled[i + 1] > 'z')
                    {
                        return null;
                    }

                    builder.Append((char)(spelled[++i] - ('a' - 'A')));
                }
                else if (IsCapital(c))
                {
                    // Written by something else: segment files spell capitals with '^'.
                    return null;
                }
                else
                {
                    builder.Append(c);
                }
            }

            return builder.ToString();
        }

        /// <summary>True when Windows would open a device for this file name: its part before the first '.' is a device name.</summary>
        private static bool IsDeviceName(string fileName)
        {
            int dot = fileName.IndexOf('.');
            string stem = dot < 0 ? fileName : fileName.Substring(0, dot);
            foreach (string device in s_deviceNames)
            {
                if (string.Equals(stem, device, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            return false;
        }

        private static bool IsCapital(char c) => c >= 'A' && c <= 'Z';
    }
}
