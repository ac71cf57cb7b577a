using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// Where segments live on one OS and in one scope: creates, opens, lists and removes their files.
    /// </summary>
    internal abstract class SegmentStore
    {
        /// <summary>Environment variable that moves the store to another directory (tests point it at a small tmpfs).</summary>
        public const string StoreEnvironmentVariable = "PSSHAREDMEMORY_STORE";

        public const string FileExtension = ".pssm";

        /// <summary>Ends the name of a segment file that is still being created and not yet published.</summary>
        public const string CreatingExtension = ".creating";

        private static readonly object s_gate = new object();
        private static readonly Dictionary<string, SegmentStore> s_stores = new Dictionary<string, SegmentStore>(StringComparer.Ordinal);

        public abstract SharedMemoryScope Scope { get; }

        /// <summary>The directory holding this scope's segment files.</summary>
        public abstract string Directory { get; }

        public static SegmentStore For(SharedMemoryScope scope)
        {
            string root = Environment.GetEnvironmentVariable(StoreEnvironmentVariable) ?? string.Empty;
            string key = root + "|" + (int)scope;
            lock (s_gate)
            {
                if (!s_stores.TryGetValue(key, out SegmentStore? store))
                {
                    store = RuntimeInformation.IsOSPlatform(OSPlatform.Windows)
                        ? new WindowsSegmentStore(scope, root)
                        : (SegmentStore)new UnixSegmentStore(scope, root);
                    s_stores[key] = store;
                }

                return store;
            }
        }

        /// <summary>
        /// True where the store's file system usually ignores case (Windows, macOS). There each capital
        /// letter is written as '^' and the letter in lower case, so 'Chat' and 'chat' stay two files.
        /// </summary>
        protected virtual bool FoldsCase => false;

        /// <summary>
        /// True where some file names open a device instead of a file (Windows: CON, NUL, COM1, ... and the same
        /// followed by an extension). File names that would do so get the <see cref="DeviceEscape"/> prefix.
        /// </summary>
        protected virtual bool ReservesDeviceNames => false;

        /// <summary>Prefix of a file name whose part before the first '.' would otherwise be a DOS device name.</summary>
        internal const string DeviceEscape = "^-";

        /// <summary>
        /// Marks a file name that spells capitals with a mask instead of '^' before each one: the lower-case name,
        /// this marker, then the capital positions as a 128-bit number in 32 hex digits (bit i: character i).
        /// </summary>
        internal const string MaskMarker = "^~";

        private const int MaskDigits = SegmentName.MaxLength / 4;

        /// <summary>
        /// The longest file name (without the extension and the device prefix) the '^' spelling may produce; a
        /// longer one uses the mask, so every file name stays at most 164 characters and the temporary
        /// ".name.guid.creating" names stay within the 255 characters a file name may have.
        /// </summary>
        internal const int MaxSpelledLength = SegmentName.MaxLength + 2 + MaskDigits;

        private static readonly string[] s_deviceNames =
        {
            "con", "prn", "aux", "nul",
            "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9",
            "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
        };

        public string PathOf(string name) => System.IO.Path.Combine(Directory, FileNameOf(name) + FileExtension);

        /// <summary>
        /// The file name (without <see cref="FileExtension"/>) of a valid segment name. On Linux the name itself.
        /// Elsewhere the mapping is one-to-one and reversible (<see cref="NameOf"/>):
        /// capitals become '^' and the lower-case letter ("Chat" is "^chat"), or, when that would be longer than
        /// <see cref="MaxSpelledLength"/>, the lower-case name followed by <see cref="MaskMarker"/> and the capital
        /// positions in hex; on Windows a result that starts with a device name ("con", "nul.log") gets the
        /// <see cref="DeviceEscape"/> prefix. '^' followed by anything but a lower-case letter is never produced
        /// by the capital spelling, which keeps the three forms apart.
        /// </summary>
        internal string FileNameOf(string name)
        {
            if (!FoldsCase && !ReservesDeviceNames)
            {
                return name;
            }

            string fileName = FoldsCase ? SpellCapitals(name) : name;
            if (ReservesDeviceNames && IsDeviceName(fileName))
            {
                fileName = DeviceEscape + fileName;
            }

            return fileName;
        }

        /// <summary>
        /// The segment name a file name (without <see cref="FileExtension"/>) stands for, or null when the file is
        /// not one that <see cref="FileNameOf"/> writes.
        /// </summary>
        internal string? NameOf(string fileName)
        {
            if (!FoldsCase && !ReservesDeviceNames)
            {
                return fileName;
            }

            string spelled = fileName;
            if (ReservesDeviceNames && spelled.StartsWith(DeviceEscape, StringComparison.Ordinal))
            {
                spelled = spelled.Substring(DeviceEscape.Length);
            }

            string? name = FoldsCase ? ReadCapitals(spelled) : spelled;

            // Only the canonical spelling counts: this rejects "^chat" where '^' was not needed, a mask where
            // the '^' spelling fits, a device prefix on an ordinary name, and invalid names.
            return name is not null && SegmentName.IsValid(name) && FileNameOf(name) == fileName ? name : null;
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

        /// <summary>
        /// Creates a segment file of <paramref name="fileLength"/> bytes, lets <paramref name="initialize"/> write the
        /// header while no one else can see it, then publishes it under its name, failing if the name is taken.
        /// </summary>
        public abstract SegmentMapping Create(string name, long fileLength, int permissions, Action<SegmentMapping> initialize);

        /// <summary>Opens an existing segment file. Throws NotFound when there is none.</summary>
        public abstract SegmentMapping Open(string name);

        /// <summary>Removes the segment file's name. Returns false when there was none.</summary>
        public abstract bool Unlink(string name);

        /// <summary>
        /// Opens a segment that is about to be removed. Null when the name exists but is not a usable
        /// segment (it can still be unlinked), or when it does not exist (<paramref name="exists"/> false).
        /// </summary>
        public virtual SegmentMapping? OpenForRemoval(string name, out bool exists)
        {
            try
            {
                SegmentMapping mapping = Open(name);
                exists = true;
                return mapping;
            }
            catch (NativeException e) when (Classify(e) == SharedMemoryErrorCode.NotFound)
            {
                exists = false;
                return null;
            }
            catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.Corrupted)
            {
                exists = true;
                return null;
            }
        }

        /// <summary>True when something has the segment's file name, whether or not it is a usable segment.</summary>
        public virtual bool Exists(string name) => System.IO.File.Exists(PathOf(name));

        /// <summary>
        /// True when the segment's name no longer leads to the file that <paramref name="mapping"/> has open:
        /// something deleted or replaced it without marking it removed.
        /// </summary>
        public virtual bool IsOrphaned(string name, SegmentMapping mapping) => !System.IO.File.Exists(PathOf(name));

        /// <summary>
        /// What a failed native call of this store means. The base reads errno, which the Unix stores
        /// report; a store whose calls report another error space overrides it.
        /// </summary>
        public virtual SharedMemoryErrorCode Classify(NativeException e)
        {
            if (e.IsWin32)
            {
                return SharedMemoryErrorCode.NativeError;
            }

            int errno = e.ErrorCode;
            return errno == Libc.ENOENT ? SharedMemoryErrorCode.NotFound
                : errno == Libc.EEXIST ? SharedMemoryErrorCode.AlreadyExists
                : errno == Libc.ELOOP ? SharedMemoryErrorCode.SymbolicLink
                : errno == Libc.EACCES || errno == Libc.EPERM ? SharedMemoryErrorCode.PermissionDenied
                : errno == Libc.ENOSPC || errno == Libc.EDQUOT ? SharedMemoryErrorCode.OutOfSpace
                : SharedMemoryErrorCode.NativeError;
        }

        /// <summary>True when the failed call was the one that removes a segment's name.</summary>
        public virtual bool IsRemoval(NativeException e) => e.Function == "unlink" || e.Function == "unlinkat";

        /// <summary>Throws when the store directory exists but may not be trusted; does nothing when it is absent.</summary>
        public virtual void CheckTrusted()
        {
        }

        /// <summary>Names of the files in the store that look like segments.</summary>
        public IEnumerable<string> EnumerateNames()
        {
            CheckTrusted();
            if (!System.IO.Directory.Exists(Directory))
            {
                yield break;
            }

            foreach (string path in System.IO.Directory.EnumerateFiles(Directory, "*" + FileExtension))
            {
                string fileName = System.IO.Path.GetFileName(path);
                string? name = NameOf(fileName.Substring(0, fileName.Length - FileExtension.Length));
                if (name is not null && SegmentName.IsValid(name))
                {
                    yield return name;
                }
            }
        }
    }

    /// <summary>One open, mapped segment file and the OS primitives that go with it.</summary>
    internal abstract unsafe class SegmentMapping : IDisposable
    {
        /// <summary>First byte of the mapping.</summary>
        public abstract byte* Base { get; }

        /// <summary>Bytes mapped: the file's length when it was opened.</summary>
        public abstract long Length { get; }

        /// <summary>True when this user may read the segment but not write it: the mapping is read-only.</summary>
        public virtual bool IsReadOnly => false;

        /// <summary>
        /// False when this mapping cannot register as a waiter (a read-only one cannot bump the waiter
        /// count), so writers will not wake it: it must wait in short slices.
        /// </summary>
        public virtual bool CanWaitForWake => true;

        /// <summary>
        /// Null when the whole mapping is backed by the file; otherwise why touching it would fault (the file
        /// was shrunk, or its memory is not allocated). Called before every access to the mapped memory.
        /// </summary>
        public virtual string? CheckIntact() => null;

        /// <summary>Tries to take the segment's cross-process lock without blocking.</summary>
        public abstract bool TryLock();

        public abstract void Unlock();

        /// <summary>Blocks while *word equals expected, at most the timeout. May return early.</summary>
        public abstract void Wait(int* word, int expected, int timeoutMilliseconds);

        /// <summary>Wakes every process waiting on word.</summary>
        public abstract void WakeAll(int* word);

        /// <summary>
        /// Keeps the mapping and file alive until the matching <see cref="Release"/>, even across Dispose,
        /// so an operation in flight on another thread never touches unmapped memory.
        /// Throws ObjectDisposedException once the mapping is closed.
        /// </summary>
        public abstract void AddRef();

        public abstract void Release();

        public abstract void Dispose();
    }
}
