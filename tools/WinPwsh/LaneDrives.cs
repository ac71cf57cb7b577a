using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Threading;

namespace PSSharedMemory.WinPwsh
{
    /// <summary>
    /// Wine lists drive letters from objects its mount manager service publishes. A process that asks before the
    /// service has published them gets none: PowerShell's FileSystem provider then fails ("InitializeDefaultDrives
    /// ... failed") and the session has no drive at all, although paths such as Z:\ still open. The host waits for
    /// the letters before it opens the runspace, and adds a drive for any letter the provider left out.
    /// </summary>
    internal static class LaneDrives
    {
        private const string Prefix = "pwsh (Windows lane host): ";

        /// <summary>Waits until the system lists at least one drive letter, or until <paramref name="limit"/>.</summary>
        public static void WaitForLetters(TimeSpan limit)
        {
            Stopwatch watch = Stopwatch.StartNew();
            string? problem = null;
            while (true)
            {
                try
                {
                    if (Environment.GetLogicalDrives().Length > 0)
                    {
                        if (problem is not null)
                        {
                            Console.Error.WriteLine($"{Prefix}the drive letters appeared after {watch.ElapsedMilliseconds} ms ({problem}).");
                        }

                        return;
                    }

                    problem = "the system listed no drive";
                }
                catch (IOException e)
                {
                    problem = $"listing the drives failed: {e.Message}";
                }

                if (watch.Elapsed > limit)
                {
                    Console.Error.WriteLine($"{Prefix}no drive letter after {limit.TotalSeconds:0} s ({problem}).");
                    return;
                }

                Thread.Sleep(20);
            }
        }

        /// <summary>Adds a FileSystem drive for every drive letter the provider did not make one for.</summary>
        public static void AddMissing(Runspace runspace)
        {
            SessionStateProxy state = runspace.SessionStateProxy;
            var present = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (PSDriveInfo drive in state.Drive.GetAllForProvider("FileSystem"))
            {
                present.Add(drive.Name);
            }

            string[] roots;
            try
            {
                roots = Environment.GetLogicalDrives();
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"{Prefix}listing the drives failed: {e.Message}");
                return;
            }

            ProviderInfo provider = state.Provider.GetOne("FileSystem");
            bool added = false;
            foreach (string root in roots)
            {
                string name = root.Substring(0, 1);
                if (present.Contains(name))
                {
                    continue;
                }

                Console.Error.WriteLine($"{Prefix}PowerShell made no drive {name}: ({Describe(root)}); adding it.");
                state.Drive.New(new PSDriveInfo(name, provider, root, string.Empty, null), "Global");
                added = true;
            }

            if (added)
            {
                try
                {
                    state.Path.SetLocation(Environment.CurrentDirectory);
                }
                catch (RuntimeException e)
                {
                    Console.Error.WriteLine($"{Prefix}could not go to {Environment.CurrentDirectory}: {e.Message}");
                }
            }
        }

        private static string Describe(string root)
        {
            try
            {
                var info = new DriveInfo(root);
                return $"type {info.DriveType}, ready {info.IsReady}";
            }
            catch (Exception e)
            {
                return $"{e.GetType().Name}: {e.Message}";
            }
        }
    }
}
