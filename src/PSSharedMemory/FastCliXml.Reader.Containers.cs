using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Management.Automation;
using System.Runtime.CompilerServices;

namespace PSSharedMemory
{
    /// <content>The reader's containers: lists and dictionaries, built as PSSerializer builds them.</content>
    internal static partial class FastCliXml
    {
        private sealed partial class Reader
        {
            [MethodImpl(Optimized)]
            private object? TryReadContainer(Tag tag, TypeNames typeNames)
            {
                if (tag.Is("DCT"))
                {
                    return TryReadDictionary(tag, typeNames);
                }

                bool stack = tag.Is("STK");
                bool queue = tag.Is("QUE");
                if (!stack && !queue && !tag.Is("LST") && !tag.Is("IE"))
                {
                    return null;
                }

                var list = new ArrayList();
                if (!TryReadValues(tag, list))
                {
                    return null;
                }

                if (stack)
                {
                    list.Reverse();
                    return new Stack(list);
                }

                return queue ? new Queue(list) : (object)list;
            }

            /// <summary>
            /// Adds to <paramref name="items"/> the values inside <paramref name="tag"/>, up to and with its end tag;
            /// false when one of them is not a value the reader reads.
            /// </summary>
            [MethodImpl(Optimized)]
            private bool TryReadValues(Tag tag, IList items)
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

                    if (!TryReadStartTag(out Tag item) || !TryReadValue(item, out object? value))
                    {
                        return false;
                    }

                    items.Add(value);
                }
            }

            // As PSSerializer builds a dictionary: keys compared as PowerShell does until two clash, then as .NET does.
            [MethodImpl(Optimized)]
            private object? TryReadDictionary(Tag tag, TypeNames typeNames)
            {
                bool ordered = typeNames.Names.Length > 0
                    && MaskPrefix(typeNames.Names[0]) == typeof(OrderedDictionary).FullName;
                IDictionary dictionary = ordered
                    ? new OrderedDictionary(StringComparer.CurrentCultureIgnoreCase)
                    : (IDictionary)new Hashtable(StringComparer.CurrentCultureIgnoreCase);
                bool clashed = false;
                if (tag.IsEmpty)
                {
                    return dictionary;
                }

                while (true)
                {
                    SkipWhitespace();
                    if (AtEndTag())
                    {
                        return TryReadEndTag(tag) ? dictionary : null;
                    }

                    if (!TryReadStartTag(out Tag entry) || !entry.Is("En") || entry.IsEmpty || entry.Name is not null || entry.RefId >= 0)
                    {
                        return null;
                    }

                    SkipWhitespace();
                    if (!TryReadStartTag(out Tag keyTag) || !string.Equals(keyTag.Name, "Key", StringComparison.OrdinalIgnoreCase)
                        || !TryReadValue(keyTag, out object? key) || key is null)
                    {
                        return null;
                    }

                    SkipWhitespace();
                    if (!TryReadStartTag(out Tag valueTag) || !string.Equals(valueTag.Name, "Value", StringComparison.OrdinalIgnoreCase)
                        || !TryReadValue(valueTag, out object? value))
                    {
                        return null;
                    }

                    SkipWhitespace();
                    if (!TryReadEndTag(entry))
                    {
                        return null;
                    }

                    if (dictionary.Contains(key))
                    {
                        if (clashed)
                        {
                            // PSSerializer would fall back to comparing keys by reference.
                            return null;
                        }

                        clashed = true;
                        IDictionary copy = ordered ? new OrderedDictionary(dictionary.Count) : (IDictionary)new Hashtable(dictionary.Count);
                        foreach (DictionaryEntry existing in dictionary)
                        {
                            copy.Add(existing.Key, existing.Value);
                        }

                        dictionary = copy;
                        if (dictionary.Contains(key))
                        {
                            return null;
                        }
                    }

                    dictionary.Add(key, value);
                }
            }
        }
    }
}
