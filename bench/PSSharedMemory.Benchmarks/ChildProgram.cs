using System;
using System.Diagnostics;
using System.IO;

namespace PSSharedMemory.Benchmarks
{
    /// <summary>Starts a second copy of this program, the other side of a cross-process benchmark.</summary>
    internal static class ChildProgram
    {
        /// <param name="redirect">True to talk to the child over its standard input and output.</param>
        /// <param name="arguments">The child's command and its arguments.</param>
        public static Process Start(bool redirect, params string[] arguments)
        {
            string self = Environment.ProcessPath ?? throw new InvalidOperationException("The process path is unknown.");
            var info = new ProcessStartInfo(self)
            {
                RedirectStandardInput = redirect,
                RedirectStandardOutput = redirect,
                UseShellExecute = false,
            };

            // Started as 'dotnet PSSharedMemory.Benchmarks.dll': the child needs the dll too.
            if (Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            {
                info.ArgumentList.Add(typeof(ChildProgram).Assembly.Location);
            }

            foreach (string argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            return Process.Start(info) ?? throw new InvalidOperationException($"Could not start '{self}'.");
        }
    }
}
