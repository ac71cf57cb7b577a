using System;
using System.Globalization;
using System.Linq;
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

            case "create-write":
                // Creates the segment and writes its first payload, as Write-SharedMemory does for a new name.
                using (SharedMemorySegment segment = SharedMemorySegment.Create(name, long.Parse(args[2], CultureInfo.InvariantCulture)))
                {
                    Console.WriteLine("created");
                    Console.WriteLine("sequence " + segment.WriteText(args[3]));
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

            case "grow-writer":
                // Writes checksummed payloads from 1 KiB up to N bytes, half as long again each time, so a
                // growable segment grows on most writes; reports each new size.
                using (SharedMemorySegment segment = SharedMemorySegment.Open(name))
                {
                    long max = long.Parse(args[2], CultureInfo.InvariantCulture);
                    var random = new Random(20261127);
                    long size = segment.Size;
                    int writes = 0;
                    int grows = 0;
                    Console.WriteLine("writing");
                    for (long length = 1024; ; length = Math.Min(max, length * 3 / 2))
                    {
                        segment.Write(Checksummed(random, (int)length), SharedMemoryContentType.Bytes);
                        writes++;
                        if (segment.Size != size)
                        {
                            size = segment.Size;
                            grows++;
                            Console.WriteLine("grew " + size.ToString(CultureInfo.InvariantCulture));
                        }

                        if (length == max)
                        {
                            break;
                        }
                    }

                    Console.WriteLine("done " + writes.ToString(CultureInfo.InvariantCulture) + " " + grows.ToString(CultureInfo.InvariantCulture)
                        + " " + SHA256.HashData(segment.Read().Data).AsSpan(0, 8).ToArray().Aggregate(new StringBuilder(), (b, x) => b.Append(x.ToString("x2", CultureInfo.InvariantCulture))));
                }

                return 0;

            case "grow-and-pause":
                // Starts a checksummed write of N bytes that grows the segment, and stops for good at a stage of
                // it, so the test can kill this process there: "extended" (the file is longer, the header's
                // size not yet raised), "resized" (the size raised, the write not begun) or "copying" (half
                // the payload copied, the sequence odd).
                using (SharedMemorySegment segment = SharedMemorySegment.Open(name))
                {
                    int length = int.Parse(args[2], CultureInfo.InvariantCulture);
                    string stage = args[3];
                    byte[] payload = Checksummed(new Random(7), length);
                    Action pause = () =>
                    {
                        Console.WriteLine("paused " + stage);
                        Thread.Sleep(Timeout.Infinite);
                    };
                    if (stage == "copying")
                    {
                        segment.WriteWithPause(payload, pause);
                    }
                    else
                    {
                        SegmentView.GrowthPausePoint = reached =>
                        {
                            if (reached == stage)
                            {
                                pause();
                            }
                        };
                        segment.Write(payload, SharedMemoryContentType.Bytes);
                    }
                }

                return 0;

            case "checksum-reader":
                // Reads in a loop and checks every payload's SHA-256 trailer until a line arrives on stdin;
                // then reads once more and reports what it saw. Exits 4 at the first torn payload.
                using (SharedMemorySegment segment = SharedMemorySegment.Open(name))
                {
                    var stop = new ManualResetEventSlim();
                    var input = new Thread(() =>
                    {
                        Console.In.ReadLine();
                        stop.Set();
                    }) { IsBackground = true };
                    input.Start();
                    long reads = 0;
                    long interrupted = 0;
                    long longest = 0;
                    var versions = new System.Collections.Generic.HashSet<long>();
                    Console.WriteLine("reading");
                    bool last = false;
                    while (true)
                    {
                        last = stop.IsSet;
                        try
                        {
                            SharedMemoryContent content = segment.Read(TimeSpan.FromSeconds(30), CancellationToken.None);
                            if (content.Data.Length > 0 && !HasValidChecksum(content.Data))
                            {
                                Console.WriteLine("torn " + content.Data.Length.ToString(CultureInfo.InvariantCulture) + " at version " + content.Version.ToString(CultureInfo.InvariantCulture));
                                return 4;
                            }

                            reads++;
                            versions.Add(content.Version);
                            longest = Math.Max(longest, content.Data.Length);
                            if (last)
                            {
                                Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "final {0} {1} reads {2} versions {3} interrupted {4} longest {5}",
                                    content.Data.Length, content.Version, reads, versions.Count, interrupted, longest));
                                return 0;
                            }
                        }
                        catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.InterruptedWrite)
                        {
                            interrupted++;
                            if (last)
                            {
                                Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "final interrupted reads {0} versions {1} interrupted {2} longest {3}",
                                    reads, versions.Count, interrupted, longest));
                                return 0;
                            }
                        }
                        catch (Exception e) when (!(e is SharedMemoryException s && s.Code == SharedMemoryErrorCode.InterruptedWrite))
                        {
                            Console.WriteLine("failed " + e.GetType().Name + ": " + e.Message.Replace('\n', ' ') + " after " + reads.ToString(CultureInfo.InvariantCulture) + " reads");
                            Console.Error.WriteLine(e);
                            return 5;
                        }
                    }
                }

            case "queue-produce":
                // Sends N Text messages "<tag> <i>", and says so after each send returned: "sent <i> <version>".
                // An optional pause in milliseconds between sends stands for work done between messages.
                using (SharedMemorySegment segment = SharedMemorySegment.Open(name))
                {
                    string tag = args[2];
                    int count = int.Parse(args[3], CultureInfo.InvariantCulture);
                    int pause = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 0;
                    for (int i = 0; i < count; i++)
                    {
                        if (pause > 0)
                        {
                            Thread.Sleep(pause);
                        }

                        long version = segment.SendText(tag + " " + i.ToString(CultureInfo.InvariantCulture), SharedMemoryContentType.Text, TimeSpan.FromSeconds(60), CancellationToken.None);
                        Console.WriteLine("sent " + i.ToString(CultureInfo.InvariantCulture) + " " + version.ToString(CultureInfo.InvariantCulture));
                    }

                    Console.WriteLine("done");
                }

                return 0;

            case "queue-consume":
                // Receives one message at a time and prints "got <text> <version>" for each, until the message "end".
                using (SharedMemorySegment segment = SharedMemorySegment.Open(name))
                {
                    Console.WriteLine("consuming");
                    while (true)
                    {
                        foreach (SharedMemoryContent message in segment.Receive(1, TimeSpan.FromSeconds(1), CancellationToken.None))
                        {
                            string text = message.GetText();
                            if (text == "end")
                            {
                                Console.WriteLine("ended");
                                return 0;
                            }

                            Console.WriteLine("got " + text + " " + message.Version.ToString(CultureInfo.InvariantCulture));
                        }
                    }
                }

            case "queue-receive":
                // Receives N messages, waiting for each, and prints them: "got <text>".
                using (SharedMemorySegment segment = SharedMemorySegment.Open(name))
                {
                    int count = int.Parse(args[2], CultureInfo.InvariantCulture);
                    Console.WriteLine("receiving");
                    for (int i = 0; i < count; i++)
                    {
                        SharedMemoryContent message = segment.Receive(1, TimeSpan.FromSeconds(60), CancellationToken.None)[0];
                        Console.WriteLine("got " + message.GetText());
                    }
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

            case "cas-increment":
                // Adds 1 to the number in the segment N times with conditional writes, retrying on VersionMismatch.
                using (SharedMemorySegment segment = SharedMemorySegment.Open(name))
                {
                    int count = int.Parse(args[2], CultureInfo.InvariantCulture);
                    int retries = 0;
                    for (int i = 0; i < count; i++)
                    {
                        while (true)
                        {
                            string text = segment.ReadText(out _, out long version);
                            int value = text.Length == 0 ? 0 : int.Parse(text, CultureInfo.InvariantCulture);
                            try
                            {
                                segment.WriteText((value + 1).ToString(CultureInfo.InvariantCulture), SharedMemoryContentType.Text, new SharedMemoryWriteOptions { IfVersion = version });
                                break;
                            }
                            catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.VersionMismatch)
                            {
                                retries++;
                            }
                        }
                    }

                    Console.WriteLine("done " + retries);
                }

                return 0;

            case "append-lines":
                // Appends N lines "<tag> <i>" one write each.
                using (SharedMemorySegment segment = SharedMemorySegment.Open(name))
                {
                    string tag = args[2];
                    int count = int.Parse(args[3], CultureInfo.InvariantCulture);
                    var append = new SharedMemoryWriteOptions { Append = true };
                    for (int i = 0; i < count; i++)
                    {
                        segment.WriteText(tag + " " + i.ToString(CultureInfo.InvariantCulture) + "\n", SharedMemoryContentType.Text, append);
                    }

                    Console.WriteLine("done");
                }

                return 0;

            case "write-each":
                // Opens the comma-separated segments, then for each stdin line "<index>" writes that segment
                // the monotonic timestamp (Stopwatch) taken just before the write, and for "remove <index>"
                // removes it; prints "wrote <index> <version> <timestamp>" or "removed <index> <bool>".
                {
                    string[] names = name.Split(',');
                    SharedMemorySegment[] segments = names.Select(n => SharedMemorySegment.Open(n)).ToArray();
                    try
                    {
                        Console.WriteLine("ready");
                        string? line;
                        while ((line = Console.In.ReadLine()) is not null)
                        {
                            string[] parts = line.Split(' ');
                            if (parts[0] == "remove")
                            {
                                int removed = int.Parse(parts[1], CultureInfo.InvariantCulture);
                                Console.WriteLine("removed " + removed.ToString(CultureInfo.InvariantCulture) + " " + SharedMemorySegment.Remove(names[removed]));
                                continue;
                            }

                            int index = int.Parse(parts[0], CultureInfo.InvariantCulture);
                            long stamp = System.Diagnostics.Stopwatch.GetTimestamp();
                            long version = segments[index].WriteText(stamp.ToString(CultureInfo.InvariantCulture));
                            Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "wrote {0} {1} {2}", index, version, stamp));
                        }
                    }
                    finally
                    {
                        foreach (SharedMemorySegment segment in segments)
                        {
                            segment.Dispose();
                        }
                    }
                }

                return 0;

            case "session":
                return Session(name, args.Length > 2 ? (SharedMemoryScope)Enum.Parse(typeof(SharedMemoryScope), args[2]) : SharedMemoryScope.User);

            default:
                Console.Error.WriteLine("unknown command " + command);
                return 2;
        }
    }

    /// <summary>
    /// Opens the segment once and keeps the handle, then runs one command per stdin line and prints one
    /// line per outcome: "read &lt;text&gt;", "wrote &lt;version&gt;", "locked", "removed &lt;bool&gt;",
    /// "waiting" then "changed &lt;version&gt;", "info ...", "list ...", or "error &lt;Code&gt;" for any failure.
    /// A test that damages the file between commands sees this process answer, not crash.
    /// </summary>
    private static int Session(string name, SharedMemoryScope scope)
    {
        SharedMemorySegment segment;
        try
        {
            segment = SharedMemorySegment.Open(name, scope);
        }
        catch (SharedMemoryException e)
        {
            Console.WriteLine("error " + e.Code);
            Console.Error.WriteLine(e.Message);
            return 3;
        }

        using (segment)
        {
            Console.WriteLine(segment.IsReadOnly ? "open read-only" : "open read-write");
            string? line;
            while ((line = Console.In.ReadLine()) is not null)
            {
                string verb = line.Split(' ')[0];
                string argument = line.Length > verb.Length ? line.Substring(verb.Length + 1) : string.Empty;
                try
                {
                    switch (verb)
                    {
                        case "read":
                            Console.WriteLine("read " + segment.ReadText(TimeSpan.FromSeconds(10), CancellationToken.None, out _, out _));
                            break;
                        case "write":
                            Console.WriteLine("wrote " + segment.WriteText(argument, TimeSpan.FromSeconds(10), CancellationToken.None));
                            break;
                        case "lock":
                            using (segment.Lock(TimeSpan.FromSeconds(10)))
                            {
                                Console.WriteLine("locked");
                            }

                            break;
                        case "remove":
                            Console.WriteLine("removed " + SharedMemorySegment.Remove(name, scope));
                            break;
                        case "wait":
                            long since = segment.Sequence;
                            Console.WriteLine("waiting " + since);
                            Console.WriteLine("changed " + segment.WaitForChange(since, TimeSpan.FromSeconds(60), CancellationToken.None));
                            break;
                        case "info":
                            SharedMemorySegmentInfo info = segment.GetInfo();
                            Console.WriteLine("info " + info.Length + " " + info.Sequence + " " + info.IsReadOnly);
                            break;
                        case "list":
                            var entries = new System.Collections.Generic.List<string>();
                            foreach (SharedMemorySegmentInfo listed in SharedMemorySegment.List(argument.Length == 0 ? "*" : argument, scope))
                            {
                                entries.Add(listed.Name + ":" + listed.Status + ":" + (listed.IsReadOnly ? "ro" : "rw"));
                            }

                            Console.WriteLine("list " + string.Join(",", entries));
                            break;
                        case "orphaned":
                            Console.WriteLine("orphaned " + segment.IsOrphaned());
                            break;
                        default:
                            Console.WriteLine("unknown " + verb);
                            break;
                    }
                }
                catch (SharedMemoryException e)
                {
                    Console.WriteLine("error " + e.Code);
                    Console.Error.WriteLine(e.Message);
                }
            }
        }

        return 0;
    }

    /// <summary>A payload of <paramref name="length"/> random bytes whose last 32 are the SHA-256 of the rest.</summary>
    private static byte[] Checksummed(Random random, int length)
    {
        var payload = new byte[length];
        random.NextBytes(payload.AsSpan(0, length - 32));
        SHA256.HashData(payload.AsSpan(0, length - 32)).CopyTo(payload, length - 32);
        return payload;
    }

    private static bool HasValidChecksum(byte[] data) =>
        data.Length >= 33 && SHA256.HashData(data.AsSpan(0, data.Length - 32)).AsSpan().SequenceEqual(data.AsSpan(data.Length - 32));
}
