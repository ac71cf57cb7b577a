using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using BenchmarkDotNet.Running;

namespace PSSharedMemory.Benchmarks
{
    /// <summary>
    /// Usage:
    ///   PSSharedMemory.Benchmarks [--quick] [--artifacts DIR] [--allow-debug] [BenchmarkDotNet options, e.g. --filter *Lock*]
    ///   PSSharedMemory.Benchmarks pingpong [--rounds N] [--warmup N] [--idle N] [--output results.json]
    ///   PSSharedMemory.Benchmarks paired [--rounds N] [--batch N] [--warmup SECONDS] [--output results.json]
    ///   PSSharedMemory.Benchmarks creationwait [--runs N] [--warmup N]
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            if (args.Length > 0 && args[0] == "pingpong-child")
            {
                return PingPong.RunChild(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture), int.Parse(args[4], CultureInfo.InvariantCulture), args[5]);
            }

            if (args.Length > 0 && args[0] == "queue-child")
            {
                return QueueThroughput.RunChild(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture));
            }

            if (args.Length > 0 && args[0] == "queue")
            {
                int messages = 200_000;
                int rounds = 3;
                for (int i = 1; i < args.Length; i++)
                {
                    switch (args[i])
                    {
                        case "--messages": messages = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                        case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                        default: throw new ArgumentException($"Unknown queue option '{args[i]}'.");
                    }
                }

                return QueueThroughput.Run(messages, rounds);
            }

            if (args.Length > 0 && args[0] == "creationwait-child")
            {
                return CreationWait.RunChild();
            }

            if (args.Length > 0 && args[0] == "creationwait")
            {
                int runs = 20;
                int warmup = 3;
                for (int i = 1; i < args.Length; i++)
                {
                    switch (args[i])
                    {
                        case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                        case "--warmup": warmup = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                        default: throw new ArgumentException($"Unknown creationwait option '{args[i]}'.");
                    }
                }

                return CreationWait.Run(runs, warmup);
            }

            if (args.Length > 0 && args[0] == "paired")
            {
                int rounds = 101;
                int batch = 5000;
                double warmup = 3;
                string? output = null;
                for (int i = 1; i < args.Length; i++)
                {
                    switch (args[i])
                    {
                        case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                        case "--batch": batch = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                        case "--warmup": warmup = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                        case "--output": output = args[++i]; break;
                        default: throw new ArgumentException($"Unknown paired option '{args[i]}'.");
                    }
                }

                return Paired.Run(rounds, batch, warmup, output);
            }

            if (args.Length > 0 && args[0] == "pingpong")
            {
                int rounds = 2000;
                int warmup = 200;
                int idle = 500;
                string? output = null;
                for (int i = 1; i < args.Length; i++)
                {
                    switch (args[i])
                    {
                        case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                        case "--warmup": warmup = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                        case "--idle": idle = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                        case "--output": output = args[++i]; break;
                        default: throw new ArgumentException($"Unknown pingpong option '{args[i]}'.");
                    }
                }

                return PingPong.Run(rounds, warmup, idle, output);
            }

            bool quick = false;
            bool allowDebug = false;
            string artifacts = Path.Combine(Directory.GetCurrentDirectory(), "BenchmarkDotNet.Artifacts");
            var rest = new List<string>();
            for (int i = 0; i < args.Length; i++)
            {
                if (args[i] == "--quick")
                {
                    quick = true;
                }
                else if (args[i] == "--allow-debug")
                {
                    allowDebug = true;
                }
                else if (args[i] == "--artifacts")
                {
                    artifacts = Path.GetFullPath(args[++i]);
                }
                else
                {
                    rest.Add(args[i]);
                }
            }

            if (!rest.Exists(a => a == "--filter"))
            {
                rest.Add("--filter");
                rest.Add("*");
            }

            // Child processes inherit it, so [ParamsSource] agrees with the host.
            Environment.SetEnvironmentVariable(BenchmarkSettings.QuickVariable, quick ? "1" : "0");
            var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly)
                .Run(rest.ToArray(), BenchmarkSettings.CreateConfig(quick, allowDebug, artifacts));
            foreach (var summary in summaries)
            {
                if (summary.HasCriticalValidationErrors || summary.Reports.Length == 0)
                {
                    return 1;
                }
            }

            return 0;
        }
    }
}
