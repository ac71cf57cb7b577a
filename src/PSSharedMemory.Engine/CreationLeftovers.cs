using System;
using System.Globalization;
using System.Threading;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// Tidies a Unix store of the temporary files that creates killed half-way leave behind
    /// (".&lt;file name&gt;.&lt;pid&gt;.&lt;guid&gt;.creating"; see "Creation" in docs/segment-format.md).
    /// </summary>
    internal sealed class CreationLeftovers
    {
        private static readonly TimeSpan LeftoverAge = TimeSpan.FromMinutes(1);
        private readonly string _directory;
        private long _nextSweep;

        public CreationLeftovers(string directory) => _directory = directory;

        /// <summary>
        /// Removes "*.creating" files that a create left behind when its process was killed: older than a
        /// minute, and their process (named in the file name) is gone. At most once a minute per store.
        /// </summary>
        public void RemoveFrom(SafeFileDescriptor directory)
        {
            long now = DateTime.UtcNow.Ticks;
            long due = Interlocked.Read(ref _nextSweep);
            if (now < due || Interlocked.CompareExchange(ref _nextSweep, now + LeftoverAge.Ticks, due) != due)
            {
                return;
            }

            try
            {
                foreach (string path in System.IO.Directory.EnumerateFiles(_directory, ".*" + SegmentStore.CreatingExtension))
                {
                    string fileName = System.IO.Path.GetFileName(path);
                    if (IsAbandonedLeftover(fileName, System.IO.File.GetLastWriteTimeUtc(path)))
                    {
                        try
                        {
                            Libc.UnlinkAt(directory, fileName);
                        }
                        catch (NativeException)
                        {
                            // Another user's leftover, or already gone.
                        }
                    }
                }
            }
            catch (Exception e) when (e is System.IO.IOException || e is UnauthorizedAccessException)
            {
                // Tidying is a courtesy; never fail a create or remove over it.
            }
        }

        /// <summary>".&lt;name&gt;.&lt;pid&gt;.&lt;guid&gt;.creating", old enough, and its process gone.</summary>
        internal static bool IsAbandonedLeftover(string fileName, DateTime lastWriteUtc)
        {
            if (DateTime.UtcNow - lastWriteUtc < LeftoverAge || !fileName.EndsWith(SegmentStore.CreatingExtension, StringComparison.Ordinal))
            {
                return false;
            }

            string[] parts = fileName.Substring(0, fileName.Length - SegmentStore.CreatingExtension.Length).Split('.');
            if (parts.Length < 4
                || !int.TryParse(parts[parts.Length - 2], NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                return false;
            }

            return !Libc.ProcessMayExist(pid);
        }

    }
}
