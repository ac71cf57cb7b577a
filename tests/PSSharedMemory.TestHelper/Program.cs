using System;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using PSSharedMemory.Engine;

// A second process for the engine tests. Each command prints what it did on stdout, one line per
// event, so the test can wait for a line (for example "locked") before acting on this process.
internal static class Program
{
    private static int Main(string[] args)
    {
        // The tests read this output as UTF-8; on Windows the console code page would turn '✓' into '?'.
        Console.OutputEncoding = new System.Text.UTF8Encoding(false);
        try
        {
            return Run(args);
        }
        catch (SharedMemoryException e)
        {
            Console.WriteLine("error " + e.Code);
            Console.Error.WriteLine(e.Message);
            return 3;
        }
    }

    private static int Run(string[] args)
    {
        string command = args[0];
        string name = args[1];
        switch (command)
        {
            case "create":
                using (SharedMemorySegment.Create(name, long.Parse(args[2], CultureInfo.InvariantCulture)))
                {
                    Console.WriteLine("created");
                }

                return 0;

            case "write":
                using (SharedMemorySegment segment = SharedMemorySegment.Open(name))
                {
                    Console.WriteLine("sequence " + segment.WriteText(args[2]));
                }

                return 0;

            case "remove-global":
                Console.WriteLine("removed " + SharedMemorySegment.Remove(name, SharedMemoryScope.Global));
                return 0;

            case "read":
                using (SharedMemorySegment segment = SharedMemorySegment.Open(name))
                {
                    SharedMemoryContent content = segment.Read();
                    Console.WriteLine(content.ContentType + " " + content.Sequence + " " + content.GetText());
                }

                return 0;

            case "increment":
                using (SharedMemorySegment segment = SharedMemorySegment.Open(name))
                {
                    int count = int.Parse(args[2], CultureInfo.InvariantCulture);
                    for (int i = 0; i < count; i++)
                    {
                        using (segment.Lock(TimeSpan.FromSeconds(60)))
                        {
                            string text = segment.ReadText(out _, out _);
                            int value = text.Length == 0 ? 0 : int.Parse(text, CultureInfo.InvariantCulture);
                            segment.WriteText((value + 1).ToString(CultureInfo.InvariantCulture));
                        }
                    }

                    Console.WriteLine("done");
                }

                return 0;

            case "hold-lock":
                {
                    SharedMemorySegment segment = SharedMemorySegment.Open(name);
                    segment.Lock(TimeSpan.FromSeconds(30));
                    Console.WriteLine("locked");
                    Thread.Sleep(Timeout.Infinite);
                    return 0;
                }

            case "pause-write":
                {
                    SharedMemorySegment segment = SharedMemorySegment.Open(name);
                    segment.WriteWithPause(new byte[segment.Capacity], () =>
                    {
                        Console.WriteLine("paused");
                        Thread.Sleep(Timeout.Infinite);
                    });
                    return 0;
                }

            case "wait":
                using (SharedMemorySegment segment = SharedMemorySegment.Open(name))
                {
                    long since = segment.Sequence;
                    Console.WriteLine("waiting " + since);
                    long now = segment.WaitForChange(since, TimeSpan.FromSeconds(60), CancellationToken.None);
                    Console.WriteLine("changed " + now);
                }

                return 0;

            case "checksummed-writer":
                // Writes payloads whose last 32 bytes are the SHA-256 of the rest, until stdin closes or a line arrives.
                using (SharedMemorySegment segment = SharedMemorySegment.Open(name))
                {
                    var random = new Random(12345);
                    int maxLength = (int)Math.Min(segment.Capacity, 1 << 20);
                    using var sha = SHA256.Create();
                    var stop = new ManualResetEventSlim();
                    var reader = new Thread(() =>
                    {
                        Console.In.ReadLine();
                        stop.Set();
                    }) { IsBackground = true };
                    reader.Start();
                    Console.WriteLine("writing");
                    long writes = 0;
                    while (!stop.IsSet)
                    {
                        int length = random.Next(33, maxLength + 1);
                        var payload = new byte[length];
                        random.NextBytes(payload.AsSpan(0, length - 32));
                        sha.ComputeHash(payload, 0, length - 32).CopyTo(payload, length - 32);
                        segment.Write(payload, SharedMemoryContentType.Bytes);
                        writes++;
                    }

                    Console.WriteLine("writes " + writes);
                }

                return 0;

            case "open-and-wait":
                // Opens the segment, says so, then on each line from stdin reads it and reports the outcome.
                using (SharedMemorySegment segment = SharedMemorySegment.Open(name))
                {
                    Console.WriteLine("open");
                    while (Console.In.ReadLine() is not null)
                    {
                        try
                        {
                            Console.WriteLine("read " + segment.ReadText(out _, out _));
                        }
                        catch (SharedMemoryException e)
                        {
                            Console.WriteLine("error " + e.Code);
                        }
                    }
                }

                return 0;

            default:
                Console.Error.WriteLine("unknown command " + command);
                return 2;
        }
    }
}
