using System;
using System.Management.Automation;

namespace PSSharedMemory
{
    /// <summary>
    /// Releases open handles, and with them any lock they hold, on Remove-Module and at process exit; on
    /// Remove-Module it also ends the session's event subscriptions and their watcher thread.
    /// </summary>
    public sealed class ModuleLifetime : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        private static int s_exitHooked;

        /// <summary>Called by Import-Module.</summary>
        public void OnImport()
        {
            if (IntPtr.Size != 8 && !System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows))
            {
                // The Unix store binds off_t and struct stat with their 64-bit layouts.
                throw new PlatformNotSupportedException(
                    "PSSharedMemory needs a 64-bit PowerShell on Linux and macOS; this one is 32-bit. Use a 64-bit pwsh.");
            }

            if (System.Threading.Interlocked.Exchange(ref s_exitHooked, 1) == 0)
            {
                AppDomain.CurrentDomain.ProcessExit += (_, _) => SegmentCache.ReleaseAll();
            }
        }

        /// <summary>
        /// Called by Remove-Module: ends this runspace's event subscriptions and its watcher thread, and
        /// releases its handles; other runspaces keep theirs.
        /// </summary>
        public void OnRemove(PSModuleInfo psModuleInfo)
        {
            EventWatcher.ReleaseCurrentRunspace();
            SegmentCache.ReleaseCurrentRunspace();
        }
    }
}
