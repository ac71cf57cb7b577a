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

        public static ChildProcess Start(params string[] arguments)
        {
            string helper = Path.Combine(AppContext.BaseDirectory, "PSSharedMemory.TestHelper.dll");
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add(helper);
            foreach (string argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            return new ChildProcess(Process.Start(info)!);
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
