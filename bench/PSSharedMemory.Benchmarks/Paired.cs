using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace PSSharedMemory.Benchmarks
{
    /// <summary>
    /// The engine goals that compare an operation with its floor (the lock with the system calls it makes, the
    /// 64-byte round trip with two copies and the lock), measured in one process as interleaved rounds: each
    /// round times a batch of every method, in a new shuffled order, so that both sides of a ratio meet the
    /// machine in the same state. BenchmarkDotNet runs each method in a process of its own, minutes apart, and
    /// on a machine whose speed drifts its ratios take the drift in.
    /// </summary>
    internal static class Paired
    {
        public static int Run(int rounds, int batch, double warmupSeconds, string? output)
        {
            var locks = new LockBenchmarks();
            var trips = new RoundTripBenchmarks { Size = 64 };
            locks.Setup();
            trips.Setup();
            try
            {
                var methods = new (string Name, Action Body)[]
                {
                    ("Lock()+Unlock()", locks.LockUnlock),
                    ("flock pair + 2 fstat (the calls Lock+Unlock makes)", () => locks.FlockPairChecked()),
                    ("Write+Read, 64 B", () => trips.EngineWriteRead()),
                    ("2x memcpy + Lock/Unlock, 64 B", trips.TwoMemcpyAndLock),
                };
                var pairs = new (int Measure, int Floor)[] { (0, 1), (2, 3) };

                Stopwatch warming = Stopwatch.StartNew();
                while (warming.Elapsed.TotalSeconds < warmupSeconds)
                {
                    foreach ((string _, Action body) in methods)
                    {
                        for (int i = 0; i < batch; i++)
                        {
                            body();
                        }
                    }
                }

                var times = methods.Select(_ => new double[rounds]).ToArray();
                var random = new Random(20261128);
                int[] order = Enumerable.Range(0, methods.Length).ToArray();
                for (int r = 0; r < rounds; r++)
                {
                    random.Shuffle(order);
                    foreach (int m in order)
                    {
                        Action body = methods[m].Body;
                        long start = Stopwatch.GetTimestamp();
                        for (int i = 0; i < batch; i++)
                        {
                            body();
                        }

                        times[m][r] = (Stopwatch.GetTimestamp() - start) * 1e9 / Stopwatch.Frequency / batch;
                    }
                }

                var results = new List<object>();
                Console.WriteLine($"Engine operations against their floors, {rounds} interleaved rounds of {batch} calls each after {warmupSeconds:0.#} s of warm-up, in one process; medians in ns");
                Console.WriteLine();
                Console.WriteLine("| Method | Median [ns] | P95 [ns] | Floor | Floor median [ns] | Ratio |");
                Console.WriteLine("|---|---:|---:|---|---:|---:|");
                foreach ((int measure, int floor) in pairs)
                {
                    double median = Median(times[measure]);
                    double floorMedian = Median(times[floor]);
                    double p95 = Percentile(times[measure], 0.95);
                    Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "| {0} | {1:N1} | {2:N1} | {3} | {4:N1} | {5:N2} |",
                        methods[measure].Name, median, p95, methods[floor].Name, floorMedian, median / floorMedian));
                    results.Add(new { Name = methods[measure].Name, Median = median, P95 = p95, Floor = methods[floor].Name, FloorMedian = floorMedian, Ratio = median / floorMedian });
                }

                if (output is not null)
                {
                    File.WriteAllText(output, JsonSerializer.Serialize(new { Rounds = rounds, Batch = batch, Results = results }, new JsonSerializerOptions { WriteIndented = true }));
                }

                return 0;
            }
            finally
            {
                trips.Cleanup();
                locks.Cleanup();
            }
        }

        private static double Median(double[] values) => Percentile(values, 0.5);

        private static double Percentile(double[] values, double fraction)
        {
            double[] sorted = (double[])values.Clone();
            Array.Sort(sorted);
            int index = (int)Math.Ceiling(fraction * sorted.Length) - 1;
            return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
        }
    }
}
