using System;

namespace PSSharedMemory.Engine
{
    /// <summary>The naming rule, and wildcard matching for listing.</summary>
    public static class SegmentName
    {
        /// <summary>The longest name allowed.</summary>
        public const int MaxLength = 128;

        /// <summary>The rule, as shown to users.</summary>
        public const string Rule = "1 to 128 characters: a letter or digit first, then letters, digits, '.', '_' or '-' (the pattern [A-Za-z0-9][A-Za-z0-9._-]{0,127}); names are case-sensitive";

        /// <summary>True when <paramref name="name"/> follows <see cref="Rule"/>.</summary>
        public static bool IsValid(string? name)
        {
            if (string.IsNullOrEmpty(name) || name!.Length > MaxLength || !IsAlphanumeric(name[0]))
            {
                return false;
            }

            for (int i = 1; i < name.Length; i++)
            {
                char c = name[i];
                if (!IsAlphanumeric(c) && c != '.' && c != '_' && c != '-')
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>Throws InvalidName when <paramref name="name"/> breaks the rule.</summary>
        public static void Validate(string? name)
        {
            if (!IsValid(name))
            {
                string shown = name is null ? "(null)" : name.Length == 0 ? "(empty)" : "'" + Printable(name) + "'";
                throw new SharedMemoryException(SharedMemoryErrorCode.InvalidName, name,
                    $"The name {shown} is not a valid shared memory name. A name is {Rule}.");
            }
        }

        /// <summary>
        /// Matches a name against a wildcard pattern with '*', '?' and '[abc]' / '[a-z]' classes,
        /// case-sensitively, like the names themselves.
        /// </summary>
        public static bool Matches(string name, string pattern) => Match(name, 0, pattern, 0);

        private static bool Match(string name, int n, string pattern, int p)
        {
            while (p < pattern.Length)
            {
                char c = pattern[p];
                if (c == '*')
                {
                    while (p < pattern.Length && pattern[p] == '*')
                    {
                        p++;
                    }

                    if (p == pattern.Length)
                    {
                        return true;
                    }

                    for (int i = n; i <= name.Length; i++)
                    {
                        if (Match(name, i, pattern, p))
                        {
                            return true;
                        }
                    }

                    return false;
                }

                if (n >= name.Length)
                {
                    return false;
                }

                if (c == '?')
                {
                    n++;
                    p++;
                    continue;
                }

                if (c == '[')
                {
                    int close = pattern.IndexOf(']', p + 1);
                    if (close > p + 1)
                    {
                        if (!InClass(name[n], pattern, p + 1, close))
                        {
                            return false;
                        }

                        n++;
                        p = close + 1;
                        continue;
                    }
                }

                if (c == '`' && p + 1 < pattern.Length)
                {
                    p++;
                    c = pattern[p];
                }

                if (name[n] != c)
                {
                    return false;
                }

                n++;
                p++;
            }

            return n == name.Length;
        }

        private static bool InClass(char c, string pattern, int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                if (i + 2 < end && pattern[i + 1] == '-')
                {
                    if (c >= pattern[i] && c <= pattern[i + 2])
                    {
                        return true;
                    }

                    i += 2;
                }
                else if (pattern[i] == c)
                {
                    return true;
                }
            }

            return false;
        }

        private static bool IsAlphanumeric(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

        private static string Printable(string name)
        {
            var chars = new System.Text.StringBuilder();
            foreach (char c in name.Length > 140 ? name.Substring(0, 140) + "…" : name)
            {
                chars.Append(c < ' ' ? "\\x" + ((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture) : c.ToString());
            }

            return chars.ToString();
        }
    }
}
