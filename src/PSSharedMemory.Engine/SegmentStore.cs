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

        /// <summary>
        /// The directory a value of <see cref="StoreEnvironmentVariable"/> names for the local store: the value
        /// itself, or empty (the default directories) when it is the URI of another store, such as redis://host.
        /// </summary>
        public static string LocalRoot(string? value) =>
            value is null || value.IndexOf("://", StringComparison.Ordinal) > 0 ? string.Empty : value;

        public static SegmentStore For(SharedMemoryScope scope)
        {
            string root = LocalRoot(Environment.GetEnvironmentVariable(StoreEnvironmentVariable));
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
        /// followed by an extension). File names that would do so get the <see cref="SegmentFileNames.DeviceEscape"/> prefix.
        /// </summary>
        protected virtual bool ReservesDeviceNames => false;

        public string PathOf(string name) => System.IO.Path.Combine(Directory, FileNameOf(name) + FileExtension);

        /// <summary>The file name (without <see cref="FileExtension"/>) of a valid segment name in this store (see <see cref="SegmentFileNames"/>).</summary>
        internal string FileNameOf(string name) => SegmentFileNames.Spell(name, FoldsCase, ReservesDeviceNames);

        /// <summary>The segment name a file name (without <see cref="FileExtension"/>) stands for, or null when it is not one this store writes.</summary>
        internal string? NameOf(string fileName) => SegmentFileNames.Read(fileName, FoldsCase, ReservesDeviceNames);

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

        /// <summary>
        /// A watch for the segment's file name to appear in this store, for a wait that must not miss its
        /// creation (<see cref="SegmentCatalog.WaitForCreation"/>). The base polls; stores that can be told of
        /// new entries override it.
        /// </summary>
        public virtual StoreWatch WatchForCreation(string name) => new PollingStoreWatch();

        /// <summary>True when something has the segment's file name, whether or not it is a usable segment.</summary>
        public virtual bool Exists(string name) => System.IO.File.Exists(PathOf(name));

        /// <summary>
        /// True when the segment's name no longer leads to the file that <paramref name="mapping"/> has open:
        /// something deleted or replaced it without marking it removed. <paramref name="intact"/> is true when
        /// the same look showed that the file still backs <paramref name="mappedLength"/> bytes (the check
        /// <see cref="SegmentMapping.CheckIntact(long)"/> makes), so the caller need not look again.
        /// </summary>
        public virtual bool IsOrphaned(string name, SegmentMapping mapping, long mappedLength, out bool intact)
        {
            intact = false;
            return !System.IO.File.Exists(PathOf(name));
        }

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
}
