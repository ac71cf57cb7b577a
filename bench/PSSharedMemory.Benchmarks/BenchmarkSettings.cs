using System;
using System.Collections.Generic;
using System.Globalization;
using BenchmarkDotNet.Reports;
using Perfolizer.Metrology;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Csv;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace PSSharedMemory.Benchmarks
{
    /// <summary>Run-wide settings shared by the host and BenchmarkDotNet's child processes.</summary>
    internal static class BenchmarkSettings
    {
        // An environment variable, because BenchmarkDotNet evaluates [ParamsSource] again in each child process.
        public const string QuickVariable = "PSSHAREDMEMORY_BENCH_QUICK";

        public static bool Quick => Environment.GetEnvironmentVariable(QuickVariable) == "1";

        public static IConfig CreateConfig(bool quick, bool allowDebug, string artifactsPath)
        {
            Job job = quick
                // Few, short iterations in this process: no generated project to build, no child process.
                ? Job.Default
                    .WithToolchain(InProcessEmitToolchain.Instance)
                    .WithLaunchCount(1)
                    .WithWarmupCount(2)
                    .WithIterationCount(5)
                    .WithIterationTime(TimeInterval.FromMilliseconds(100))
                    .WithId("Quick")
                : Job.Default
                    .WithLaunchCount(1)
                    .WithWarmupCount(4)
                    .WithIterationCount(15)
                    .WithIterationTime(TimeInterval.FromMilliseconds(250))
                    .WithId("Full");

            // A Debug build of the engine is not optimized; BenchmarkDotNet refuses it unless told (figures are then not meaningful).
            ConfigOptions options = ConfigOptions.DisableLogFile | (allowDebug ? ConfigOptions.DisableOptimizationsValidator : ConfigOptions.Default);
            return ManualConfig.CreateEmpty()
                .AddJob(job)
                .AddDiagnoser(MemoryDiagnoser.Default)
                .AddColumnProvider(DefaultColumnProviders.Instance)
                .AddColumn(StatisticColumn.Median, StatisticColumn.P95)
                .AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default)
                .AddExporter(MarkdownExporter.GitHub)
                // Plain numbers in fixed units, for Compare-Alternatives.ps1 to read back.
                .AddExporter(new CsvExporter(CsvSeparator.Semicolon, new SummaryStyle(CultureInfo.InvariantCulture, printUnitsInHeader: true,
                    sizeUnit: SizeUnit.B, timeUnit: TimeUnit.Nanosecond, printUnitsInContent: false)))
                .AddAnalyser(BenchmarkDotNet.Analysers.EnvironmentAnalyser.Default)
                .WithArtifactsPath(artifactsPath)
                .WithOptions(options);
        }
    }
}
