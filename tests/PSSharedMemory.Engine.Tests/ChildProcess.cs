using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;

namespace PSSharedMemory.Engine.Tests
{
    /// <summary>A real second process running PSSharedMemory.TestHelper, with line-by-line access to its output.</summary>
    internal sealed class ChildProcess : IDisposable
    {
        private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
        private readonly Process _process;
        private readonly BlockingCollection<string> _lines = new BlockingCollection<string>();

        private ChildProcess(Process process)
        {
            _process = process;
            _process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    _lines.CompleteAdding();
                }
                else
                {
                    _lines.Add(e.Data);
                }
            };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public int Id => _process.Id;

        private static readonly object s_copyGate = new object();
        private static string? s_helperForOtherUsers;

        /// <summary>True where a test may run a process as user nobody: Linux, as root, with setpriv.</summary>
        public static bool CanRunAsNobody =>
            OperatingSystem.IsLinux() && Environment.UserName == "root" && File.Exists("/usr/bin/setpriv");

        /// <summary>
        /// The helper copied to a fresh world-readable directory under /tmp, because user nobody may not be
        /// able to reach the build output (a checkout in a 0700 home or temp directory).
        /// </summary>
        public static string HelperForOtherUsers()
        {
            lock (s_copyGate)
            {
                if (s_helperForOtherUsers is null)
                {
                    string directory = Path.Combine("/tmp", "pssm-helper-" + Guid.NewGuid().ToString("N").Substring(0, 12));
                    Directory.CreateDirectory(directory);
                    if (!OperatingSystem.IsWindows())
                    {
                        File.SetUnixFileMode(directory, (UnixFileMode)0x1ED /* 0755 */);
                    }

                    foreach (string file in Directory.EnumerateFiles(AppContext.BaseDirectory))
                    {
                        string fileName = Path.GetFileName(file);
                        if (fileName.StartsWith("PSSharedMemory.TestHelper.", StringComparison.Ordinal) || fileName == "PSSharedMemory.Engine.dll")
                        {
                            string copy = Path.Combine(directory, fileName);
                            File.Copy(file, copy);
                            if (!OperatingSystem.IsWindows())
                            {
                                File.SetUnixFileMode(copy, (UnixFileMode)0x1A4 /* 0644 */);
                            }
                        }
                    }

                    s_helperForOtherUsers = Path.Combine(directory, "PSSharedMemory.TestHelper.dll");
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(directory, recursive: true);
                }

                return s_helperForOtherUsers;
            }
        }

        /// <summary>Starts the helper as user nobody (see <see cref="CanRunAsNobody"/>).</summary>
        public static ChildProcess StartAsNobody(params string[] arguments)
        {
            var info = new ProcessStartInfo("/usr/bin/setpriv")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (string argument in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", HelperForOtherUsers() })
            {
                info.ArgumentList.Add(argument);
            }

            foreach (string argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            info.Environment["DOTNET_CLI_HOME"] = "/tmp";
            info.Environment["HOME"] = "/tmp";
            return new ChildProcess(Process.Start(info)!);
        }

        public bool HasExited => _process.HasExited;

        public static ChildProcess Start(params string[] arguments)
        {
            ProcessStartInfo info = HelperStartInfo();
            info.RedirectStandardOutput = true;
            info.RedirectStandardError = true;
            info.RedirectStandardInput = true;
            info.UseShellExecute = false;
            info.StandardOutputEncoding = new System.Text.UTF8Encoding(false);
            info.StandardErrorEncoding = new System.Text.UTF8Encoding(false);
            foreach (string argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            return new ChildProcess(Process.Start(info)!);
        }

        /// <summary>
        /// How to start the helper: its own executable where the tests were published self-contained (the
        /// Windows lane under Wine has no dotnet to run a dll with), else through dotnet.
        /// </summary>
        public static ProcessStartInfo HelperStartInfo()
        {
            string executable = Path.Combine(AppContext.BaseDirectory, "PSSharedMemory.TestHelper.exe");
            if (OperatingSystem.IsWindows() && File.Exists(executable))
            {
                return new ProcessStartInfo(executable);
            }

            var info = new ProcessStartInfo("dotnet");
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "PSSharedMemory.TestHelper.dll"));
            return info;
        }

        /// <summary>Runs a command to completion and returns its output lines.</summary>
        public static string[] Run(params string[] arguments)
        {
            using ChildProcess child = Start(arguments);
            child.WaitForExit();
            return child.RemainingLines();
        }

        /// <summary>Waits for the next output line that starts with <paramref name="prefix"/>.</summary>
        public string WaitForLine(string prefix)
        {
            var deadline = DateTime.UtcNow + Generous;
            while (DateTime.UtcNow < deadline)
            {
                if (!_lines.TryTake(out string? line, TimeSpan.FromMilliseconds(200)))
                {
                    if (_lines.IsCompleted)
                    {
                        break;
                    }

                    continue;
                }

                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return line;
                }
            }

            throw new TimeoutException($"The helper process never printed a line starting with '{prefix}'.");
        }

        public void SendLine(string line)
        {
            _process.StandardInput.WriteLine(line);
            _process.StandardInput.Flush();
        }

        public void CloseInput() => _process.StandardInput.Close();

        public void Kill()
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        public int WaitForExit()
        {
            if (!_process.WaitForExit((int)Generous.TotalMilliseconds))
            {
                _process.Kill(entireProcessTree: true);
                throw new TimeoutException("The helper process did not exit in time.");
            }

            _process.WaitForExit();
            return _process.ExitCode;
        }

        /// <summary>Every line still to come, until the process closes its output (it ended or was killed).</summary>
        public string[] RemainingLinesUntilExit()
        {
            var lines = new System.Collections.Generic.List<string>();
            var deadline = DateTime.UtcNow + Generous;
            while (!_lines.IsCompleted && DateTime.UtcNow < deadline)
            {
                if (_lines.TryTake(out string? line, TimeSpan.FromSeconds(1)))
                {
                    lines.Add(line);
                }
            }

            Xunit.Assert.True(_lines.IsCompleted, "the process did not end within a minute");
            return lines.ToArray();
        }

        public string[] RemainingLines()
        {
            var lines = new System.Collections.Generic.List<string>();
            while (_lines.TryTake(out string? line, TimeSpan.FromSeconds(5)))
            {
                lines.Add(line);
            }

            return lines.ToArray();
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }

            _process.Dispose();
        }
    }
}
