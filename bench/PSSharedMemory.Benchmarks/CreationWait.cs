using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Benchmarks
{
    /// <summary>
    /// How soon a wait for a name returns after another process creates the segment. A copy of this program
    /// creates one segment per line it reads, and answers with its Stopwatch timestamps (the monotonic clock,
    /// which both processes share) just before and just after its Create call. This process starts a wait,
    /// and only once the wait has begun (its watch set and its first look done) asks for the creation. The
    /// latency is from the start of the Create call to the wait's return; the Create call itself, measured in
    /// the same run, is the floor, since the segment is published near its end. The baseline is the loop
    /// Read-SharedMemory used before: check for the name every 50 ms.
    /// </summary>
    internal static class CreationWait
    {
        private const int PollMilliseconds = 50;

        private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

        public static int Run(int runs, int warmup)
        {
            using Process child = ChildProgram.Start(true, "creationwait-child");
            try
            {
                var watched = new List<double>(runs);
                var polled = new List<double>(runs);
                var create = new List<double>(runs);
                var looks = new List<int>(runs);
                var opened = new List<double>(runs);
                for (int i = 0; i < runs + warmup; i++)
                {
                    string name = SegmentNames.Unique("creation");
                    var probe = new CreationWaitProbe();
                    using var began = new ManualResetEventSlim();
                    probe.AfterFirstLook = began.Set;
                    long returned = 0;
                    Task<SharedMemorySegment> wait = Task.Run(() =>
                    {
                        SharedMemorySegment segment = SegmentCatalog.WaitForCreation(name, SharedMemoryScope.User, StepTimeout, CancellationToken.None, probe);
                        returned = Stopwatch.GetTimestamp();
                        return segment;
                    });
                    began.Wait(StepTimeout);
                    (long start, long end) = Create(child, name);
                    wait.Result.Dispose();
                    SharedMemorySegment.Remove(name);
                    if (i >= warmup)
                    {
                        watched.Add(Microseconds(returned - start));
                        create.Add(Microseconds(end - start));
                        looks.Add(probe.Looks);
                        opened.Add(Microseconds(returned - probe.LastWakeTimestamp));
                    }

                    name = SegmentNames.Unique("creation");
                    using var polling = new ManualResetEventSlim();
                    Task<long> poll = Task.Run(() => PollLikeBefore(name, polling));
                    polling.Wait(StepTimeout);
                    (start, _) = Create(child, name);
                    long polledReturn = poll.Result;
                    SharedMemorySegment.Remove(name);
                    if (i >= warmup)
                    {
                        polled.Add(Microseconds(polledReturn - start));
                    }
                }

                child.StandardInput.Close();
                child.WaitForExit(30_000);

                Console.WriteLine();
                Console.WriteLine($"Wait for a name another process creates, {runs} runs after {warmup} warm-up runs; {Environment.ProcessorCount} CPUs; store {SharedMemorySegment.GetStoreDirectory()}");
                Console.WriteLine($"| {"Measure",-66} | {"Median µs",10} | {"p90 µs",10} | {"Max µs",10} |");
                Console.WriteLine($"|{new string('-', 68)}|{new string('-', 11)}:|{new string('-', 11)}:|{new string('-', 11)}:|");
                Row("WaitForCreation: Create called -> the wait returned", watched);
                Row("  of which: the sleep ended -> the segment opened and returned", opened);
                Row("the Create call itself (publishes near its end)", create);
                Row($"baseline, check every {PollMilliseconds} ms: Create called -> the loop returned", polled);
                Console.WriteLine($"Looks that found nothing per WaitForCreation: {string.Join(" ", looks)} (1: the wait slept once, until the notice).");
                Console.WriteLine($"The baseline's creation comes right after its first check, so it sleeps out a whole {PollMilliseconds} ms: its worst case; a creation at a random moment waits half that on average.");
                return 0;
            }
            finally
            {
                if (!child.HasExited)
                {
                    child.Kill();
                }
            }
        }

        /// <summary>The second process: creates a segment for each name it reads, and prints the timestamps around the call.</summary>
        public static int RunChild()
        {
            string? name;
            while ((name = Console.ReadLine()) is not null)
            {
                long start = Stopwatch.GetTimestamp();
                SharedMemorySegment segment = SharedMemorySegment.Create(name, 64);
                long end = Stopwatch.GetTimestamp();
                segment.Dispose();
                Console.WriteLine(start.ToString(CultureInfo.InvariantCulture) + " " + end.ToString(CultureInfo.InvariantCulture));
            }

            return 0;
        }

        /// <summary>The loop of Read-SharedMemory before WaitForCreation: sleep 50 ms, check, open.</summary>
        private static long PollLikeBefore(string name, ManualResetEventSlim began)
        {
            bool first = true;
            while (true)
            {
                if (SharedMemorySegment.TryOpen(name, out SharedMemorySegment? segment))
                {
                    long returned = Stopwatch.GetTimestamp();
                    segment!.Dispose();
                    return returned;
                }

                if (first)
                {
                    first = false;
                    began.Set();
                }

                Thread.Sleep(PollMilliseconds);
            }
        }

        private static (long Start, long End) Create(Process child, string name)
        {
            child.StandardInput.WriteLine(name);
            child.StandardInput.Flush();
            string line = child.StandardOutput.ReadLine() ?? throw new InvalidOperationException("The creating process ended.");
            string[] parts = line.Split(' ');
            return (long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture));
        }

        private static void Row(string name, List<double> samples)
        {
            double[] sorted = samples.OrderBy(x => x).ToArray();
            double Percentile(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name,-66} | {Percentile(0.5),10:0.0} | {Percentile(0.9),10:0.0} | {sorted[^1],10:0.0} |"));
        }

        private static double Microseconds(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
    }
}
