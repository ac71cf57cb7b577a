using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text;

namespace PSSharedMemory.WinPwsh
{
    /// <summary>
    /// Stands in for pwsh.exe where there is no console to attach to (under Wine, with redirected output):
    /// runs -File, -Command or -EncodedCommand in one runspace, prints its streams and exits with the script's
    /// exit code, or 1 when it ends in an error. -NoProfile and -NonInteractive are accepted; profiles never run.
    /// </summary>
    internal static class Program
    {
        private static int Main(string[] args)
        {
            AddBuiltInModules();
            LaneDrives.WaitForLetters(TimeSpan.FromSeconds(30));
            foreach (string arg in args)
            {
                if (Is(arg, "-s", "-ServerMode", "-sshs", "-SSHServerMode"))
                {
                    // Start-Job's out-of-process server talks over stdin and stdout and needs no console.
                    return Microsoft.PowerShell.ConsoleShell.Start(null, null, args);
                }
            }

            Console.OutputEncoding = new UTF8Encoding(false);

            string? script = null;
            string? file = null;
            var fileArguments = new List<string>();
            for (int i = 0; i < args.Length; i++)
            {
                string arg = args[i];
                if (file is not null)
                {
                    fileArguments.Add(arg);
                }
                else if (Is(arg, "-NoProfile", "-NonInteractive", "-NoLogo"))
                {
                }
                else if (Is(arg, "-ExecutionPolicy", "-OutputFormat", "-InputFormat") && i + 1 < args.Length)
                {
                    i++;
                }
                else if (Is(arg, "-File", "-f") && i + 1 < args.Length)
                {
                    file = Path.GetFullPath(args[++i]);
                }
                else if (Is(arg, "-EncodedCommand", "-e", "-ec") && i + 1 < args.Length)
                {
                    script = Encoding.Unicode.GetString(Convert.FromBase64String(args[++i]));
                }
                else if (Is(arg, "-Command", "-c") && i + 1 < args.Length)
                {
                    script = string.Join(" ", args, i + 1, args.Length - i - 1);
                    break;
                }
                else
                {
                    Console.Error.WriteLine($"pwsh (Windows lane host): unsupported argument '{arg}'.");
                    return 64;
                }
            }

            if (script is null && file is null)
            {
                Console.Error.WriteLine("pwsh (Windows lane host): give -File, -Command or -EncodedCommand.");
                return 64;
            }

            var host = new LaneHost();
            var state = InitialSessionState.CreateDefault2();
            state.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.Bypass;
            using Runspace runspace = RunspaceFactory.CreateRunspace(host, state);
            runspace.Open();
            LaneDrives.AddMissing(runspace);
            using PowerShell shell = PowerShell.Create();
            shell.Runspace = runspace;
            if (file is not null)
            {
                // Like pwsh -File: named arguments (-Name value) bind as parameters, the rest by position.
                shell.AddCommand(file);
                for (int i = 0; i < fileArguments.Count; i++)
                {
                    string arg = fileArguments[i];
                    if (arg.Length > 1 && arg[0] == '-' && !char.IsDigit(arg[1]))
                    {
                        string name = arg.Substring(1).TrimEnd(':');
                        if (i + 1 < fileArguments.Count && !(fileArguments[i + 1].StartsWith('-') && fileArguments[i + 1].Length > 1 && !char.IsDigit(fileArguments[i + 1][1])))
                        {
                            shell.AddParameter(name, fileArguments[++i]);
                        }
                        else
                        {
                            shell.AddParameter(name);
                        }
                    }
                    else
                    {
                        shell.AddArgument(arg);
                    }
                }
            }
            else
            {
                // Like pwsh -Command: the exit code is 1 when the last statement failed.
                shell.AddScript(script! + "\nif (-not $?) { exit 1 }");
            }

            shell.AddCommand("Out-Default");
            shell.Commands.Commands[0].MergeMyResults(PipelineResultTypes.Error, PipelineResultTypes.Output);
            try
            {
                shell.Invoke();
            }
            catch (RuntimeException e) when (host.ExitCode is null)
            {
                Console.Error.WriteLine(e.ErrorRecord?.ToString() ?? e.Message);
                Console.Error.WriteLine(e.ErrorRecord?.InvocationInfo?.PositionMessage);
                return 1;
            }

            Console.Out.Flush();
            if (host.ExitCode is int code)
            {
                return code;
            }

            return 0;
        }

        private static bool Is(string arg, params string[] names)
        {
            foreach (string name in names)
            {
                if (string.Equals(arg, name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            return false;
        }

        private static void AddBuiltInModules()
        {
            // The SDK keeps the built-in modules (Microsoft.PowerShell.Utility, ...) under runtimes\, where the
            // default module path does not look; child processes inherit the variable.
            string modules = Path.Combine(AppContext.BaseDirectory, "runtimes", "win", "lib", "net10.0", "Modules");
            string? path = Environment.GetEnvironmentVariable("PSModulePath");
            if (Directory.Exists(modules) && (path is null || !path.Contains(modules, StringComparison.OrdinalIgnoreCase)))
            {
                Environment.SetEnvironmentVariable("PSModulePath", string.IsNullOrEmpty(path) ? modules : modules + Path.PathSeparator + path);
            }
        }
    }
}
