using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Benchmarks
{
    /// <summary>
    /// Cross-process change notification. This process and a copy of this program ping-pong over two
    /// segments: each side writes its segment, the other side's WaitForChange wakes and answers. Every
    /// reply carries the child's Stopwatch timestamp taken just before its Write call (Stopwatch reads the
    /// monotonic clock, which both processes share), so the parent measures the one-way latency from
    /// "Write called" to "WaitForChange returned in the other process", as well as the round trip.
    /// The same exchange then runs over the child's standard input and output (anonymous pipes), the
    /// classic kernel wake-up path, as the baseline measured in the same run.
    /// </summary>
    internal static class PingPong
    {
        private const int GapMilliseconds = 2;

        // The kinds of message of the idle-waiter rounds.
        private const int IdleEngine = 0;
        private const int IdlePipe = 1;
        private const int IdleFutex = 2;
        private const int IdleFutexFlockPair = 3;
        private const int IdleFutexHardened = 4;
        private static readonly int[] IdleKinds = { IdleEngine, IdlePipe, IdleFutex, IdleFutexFlockPair, IdleFutexHardened };

        private static FloorCalls CallsOf(int kind) => kind switch
        {
            IdleFutexFlockPair => FloorCalls.FlockPair,
            IdleFutexHardened => FloorCalls.Hardened,
            _ => FloorCalls.None,
        };

        private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(10);

        public static int Run(int rounds, int warmup, int gapped, string? outputPath)
        {
            string pingName = SegmentNames.Unique("ping");
            string pongName = SegmentNames.Unique("pong");
            using SharedMemorySegment ping = SharedMemorySegment.Create(pingName, 64);
            using SharedMemorySegment pong = SharedMemorySegment.Create(pongName, 64);
            string floorPath = FutexFloor.CreateFile();
            using var floor = new FutexFloor(floorPath);
            Process? child = null;
            try
            {
                child = ChildProgram.Start(true, "pingpong-child", pingName, pongName, (rounds + warmup).ToString(CultureInfo.InvariantCulture), gapped.ToString(CultureInfo.InvariantCulture), floorPath);
                pong.WaitForChange(0, TimeSpan.FromSeconds(30), CancellationToken.None); // the child is ready

                var payload = new byte[8];
                var shmRoundTrip = new List<double>(rounds);
                var shmOneWay = new List<double>(rounds);
                for (int i = 0; i < rounds + warmup; i++)
                {
                    long seen = pong.Sequence;
                    long start = Stopwatch.GetTimestamp();
                    BinaryPrimitives.WriteInt64LittleEndian(payload, start);
                    ping.Write(payload, SharedMemoryContentType.Bytes);
                    pong.WaitForChange(seen, StepTimeout, CancellationToken.None);
                    long end = Stopwatch.GetTimestamp();
                    long childWrite = BinaryPrimitives.ReadInt64LittleEndian(pong.Read().Data);
                    if (i >= warmup)
                    {
                        shmRoundTrip.Add(Microseconds(end - start));
                        shmOneWay.Add(Microseconds(end - childWrite));
                    }
                }

                // The same exchanges over the child's stdin/stdout.
                Stream toChild = child.StandardInput.BaseStream;
                Stream fromChild = child.StandardOutput.BaseStream;
                var reply = new byte[8];
                var pipeRoundTrip = new List<double>(rounds);
                var pipeOneWay = new List<double>(rounds);
                for (int i = 0; i < rounds + warmup; i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    BinaryPrimitives.WriteInt64LittleEndian(payload, start);
                    toChild.Write(payload, 0, 8);
                    toChild.Flush();
                    fromChild.ReadExactly(reply, 0, 8);
                    long end = Stopwatch.GetTimestamp();
                    long childWrite = BinaryPrimitives.ReadInt64LittleEndian(reply);
                    if (i >= warmup)
                    {
                        pipeRoundTrip.Add(Microseconds(end - start));
                        pipeOneWay.Add(Microseconds(end - childWrite));
                    }
                }

                // Idle waiters, interleaved: the child writes every GapMilliseconds, so this process is asleep
                // (and its CPU may be idle) when a write lands, as for a reader waiting for the next change. Each
                // round sends one message of every kind, in an order both sides draw from the same seed, so
                // that all kinds meet the machine in the same state.
                // Where the waits start from is taken before the child is told to begin: its first write can
                // land before this process runs again, and a wait from after it would wait for one more.
                long sequence = pong.Sequence;
                int expectedWord = floor.Word;
                var idle = new List<double>[IdleKinds.Length];
                for (int k = 0; k < idle.Length; k++)
                {
                    idle[k] = new List<double>(gapped);
                }

                BinaryPrimitives.WriteInt64LittleEndian(payload, -1);
                toChild.Write(payload, 0, 8);
                toChild.Flush();
                var order = new IdleOrder();
                for (int i = 0; i < gapped; i++)
                {
                    foreach (int kind in order.Next())
                    {
                        long end;
                        long written;
                        switch (kind)
                        {
                            case IdleEngine:
                                sequence = pong.WaitForChange(sequence, StepTimeout, CancellationToken.None);
                                end = Stopwatch.GetTimestamp();
                                written = BinaryPrimitives.ReadInt64LittleEndian(pong.Read().Data);
                                break;
                            case IdlePipe:
                                fromChild.ReadExactly(reply, 0, 8);
                                end = Stopwatch.GetTimestamp();
                                written = BinaryPrimitives.ReadInt64LittleEndian(reply);
                                break;
                            default:
                                written = floor.WaitForWake(expectedWord++, CallsOf(kind));
                                end = Stopwatch.GetTimestamp();
                                break;
                        }

                        idle[kind].Add(Microseconds(end - written));
                    }
                }

                child.StandardInput.Close();
                if (!child.WaitForExit(30_000))
                {
                    throw new TimeoutException("The ping-pong child did not exit.");
                }

                var results = new[]
                {
                    Summarize("shared memory: Write -> WaitForChange, one way", shmOneWay),
                    Summarize("shared memory: round trip", shmRoundTrip),
                    Summarize("anonymous pipe: write -> read, one way", pipeOneWay),
                    Summarize("anonymous pipe: round trip", pipeRoundTrip),
                    Summarize($"shared memory: idle waiter, write every {GapMilliseconds} ms", idle[IdleEngine]),
                    Summarize($"anonymous pipe: idle reader, write every {GapMilliseconds} ms", idle[IdlePipe]),
                    Summarize($"floor: futex wake, idle waiter, write every {GapMilliseconds} ms", idle[IdleFutex]),
                    Summarize("floor: futex wake + flock pair, idle waiter", idle[IdleFutexFlockPair]),
                    Summarize("floor: futex wake + flock pair + 2 fstat, idle waiter", idle[IdleFutexHardened]),
                };

                Console.WriteLine();
                Console.WriteLine($"Cross-process ping-pong, {rounds} rounds after {warmup} warm-up rounds; idle waiter, {gapped} writes {GapMilliseconds} ms apart; {Environment.ProcessorCount} CPUs");
                Console.WriteLine($"| {"Measure",-56} | {"Median µs",10} | {"p99 µs",10} | {"Mean µs",10} | {"Ratio (median)",14} |");
                Console.WriteLine($"|{new string('-', 58)}|{new string('-', 11)}:|{new string('-', 11)}:|{new string('-', 11)}:|{new string('-', 15)}:|");
                foreach (var r in results)
                {
                    double baseline = r.Name.Contains("round trip") ? results[3].Median : r.Name.Contains("idle") ? results[5].Median : results[2].Median;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {r.Name,-56} | {r.Median,10:0.0} | {r.P99,10:0.0} | {r.Mean,10:0.0} | {r.Median / baseline,14:0.00} |"));
                }

                Console.WriteLine("Ratio: median against the pipe's median of the same kind (pipe = 1.00). One way: from just before the writer's call to the waiter's return.");
                if (outputPath is not null)
                {
                    var document = new { Rounds = rounds, Warmup = warmup, IdleWrites = gapped, GapMilliseconds, Results = results };
                    File.WriteAllText(outputPath, JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
                }

                return 0;
            }
            finally
            {
                if (child is not null && !child.HasExited)
                {
                    child.Kill();
                }

                child?.Dispose();
                SharedMemorySegment.Remove(pingName);
                SharedMemorySegment.Remove(pongName);
                File.Delete(floorPath);
            }
        }

        /// <summary>The second process: answers every ping, then echoes over stdin/stdout until stdin closes.</summary>
        public static int RunChild(string pingName, string pongName, int total, int gapped, string floorPath)
        {
            using SharedMemorySegment ping = SharedMemorySegment.Open(pingName);
            using SharedMemorySegment pong = SharedMemorySegment.Open(pongName);
            using var floor = new FutexFloor(floorPath);
            var payload = new byte[8];
            long seen = ping.Sequence;
            pong.Write(payload, SharedMemoryContentType.Bytes); // ready
            for (int i = 0; i < total; i++)
            {
                seen = ping.WaitForChange(seen, StepTimeout, CancellationToken.None);
                BinaryPrimitives.WriteInt64LittleEndian(payload, Stopwatch.GetTimestamp());
                pong.Write(payload, SharedMemoryContentType.Bytes);
            }

            using Stream input = Console.OpenStandardInput();
            using Stream output = Console.OpenStandardOutput();
            var buffer = new byte[8];
            while (true)
            {
                try
                {
                    input.ReadExactly(buffer, 0, 8);
                }
                catch (EndOfStreamException)
                {
                    return 0;
                }

                if (BinaryPrimitives.ReadInt64LittleEndian(buffer) < 0)
                {
                    var order = new IdleOrder();
                    for (int i = 0; i < gapped; i++)
                    {
                        foreach (int kind in order.Next())
                        {
                            Thread.Sleep(GapMilliseconds);
                            long stamp = Stopwatch.GetTimestamp();
                            switch (kind)
                            {
                                case IdleEngine:
                                    BinaryPrimitives.WriteInt64LittleEndian(payload, stamp);
                                    pong.Write(payload, SharedMemoryContentType.Bytes);
                                    break;
                                case IdlePipe:
                                    BinaryPrimitives.WriteInt64LittleEndian(buffer, stamp);
                                    output.Write(buffer, 0, 8);
                                    output.Flush();
                                    break;
                                default:
                                    floor.Wake(stamp, CallsOf(kind));
                                    break;
                            }
                        }
                    }

                    continue;
                }

                BinaryPrimitives.WriteInt64LittleEndian(buffer, Stopwatch.GetTimestamp());
                output.Write(buffer, 0, 8);
                output.Flush();
            }
        }

        /// <summary>The order of the kinds in each idle round: the same shuffles on both sides.</summary>
        private sealed class IdleOrder
        {
            private readonly Random _random = new Random(20261128);
            private readonly int[] _order = (int[])IdleKinds.Clone();

            public int[] Next()
            {
                _random.Shuffle(_order);
                return _order;
            }
        }

        private static double Microseconds(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;

        private static Summary Summarize(string name, List<double> samples)
        {
            double[] sorted = samples.OrderBy(x => x).ToArray();
            return new Summary(name, Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted.Average(), sorted.Length);
        }

        private static double Percentile(double[] sorted, double p)
        {
            // Nearest rank.
            int index = (int)Math.Ceiling(p * sorted.Length) - 1;
            return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
        }

        internal sealed record Summary(string Name, double Median, double P99, double Mean, int Count);
    }
}
