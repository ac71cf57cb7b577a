using System;
using System.Diagnostics;
using System.IO;

namespace PSSharedMemory.Engine.Tests
{
    /// <summary>A tiny tmpfs for the out-of-space test, where this user may mount one.</summary>
    internal static class SmallTmpfs
    {
        public static string? TryMount(long bytes)
        {
            string mountPoint = Path.Combine(Path.GetTempPath(), "pssm-tmpfs-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(mountPoint);
            if (Run("mount", "-t", "tmpfs", "-o", "size=" + bytes, "tmpfs", mountPoint) == 0)
            {
                return mountPoint;
            }

            Directory.Delete(mountPoint);
            return null;
        }

        public static void Unmount(string mountPoint)
        {
            Run("umount", mountPoint);
            Directory.Delete(mountPoint);
        }

        private static int Run(string file, params string[] arguments)
        {
            try
            {
                var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
                foreach (string argument in arguments)
                {
                    info.ArgumentList.Add(argument);
                }

                using Process process = Process.Start(info)!;
                process.WaitForExit(30_000);
                return process.HasExited ? process.ExitCode : -1;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return -1;
            }
        }
    }
}
