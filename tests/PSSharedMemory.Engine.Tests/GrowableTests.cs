using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using Xunit;

namespace PSSharedMemory.Engine.Tests
{
    /// <summary>Growable segments (layout version 2): growing, following a grow in other processes, and its limits.</summary>
    public sealed class GrowableTests
    {
        private const string NeedsLinuxRoot = "Unix only: needs root on Linux to mount a small tmpfs.";
        private static readonly SharedMemoryOptions Growable = new SharedMemoryOptions { Growable = true };
        private readonly ITestOutputHelper _output;

        public GrowableTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void AGrowableSegmentGrowsForALargerWriteAndAFixedOneStillRefusesIt()
        {
            using var name = new TestName("grow");
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 4096, Growable);
            Assert.True(segment.IsGrowable);
            Assert.Equal(SharedMemorySegment.MaxSize, segment.MaximumSize);
            byte[] large = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray();
            segment.Write(large, SharedMemoryContentType.Bytes);

            // A quarter more than the payload, not a power of two.
            Assert.Equal(100_000 + 25_000, segment.Size);
            Assert.Equal(large, segment.Read().Data);
            Assert.Equal(SegmentLayout.HeaderSize + 125_000, new FileInfo(SegmentStore.For(SharedMemoryScope.User).PathOf(name)).Length);
            SharedMemorySegmentInfo info = segment.GetInfo();
            Assert.True(info.IsGrowable);
            Assert.Equal(125_000, info.Size);

            using var fixedName = new TestName("fixed");
            using SharedMemorySegment fixedSegment = SharedMemorySegment.Create(fixedName, 4096);
            fixedSegment.WriteText("kept");
            Assert.False(fixedSegment.IsGrowable);
            Assert.Equal(4096, fixedSegment.MaximumSize);
            var error = Assert.Throws<SharedMemoryException>(() => fixedSegment.Write(large, SharedMemoryContentType.Bytes));
            Assert.Equal(SharedMemoryErrorCode.PayloadTooLarge, error.Code);
            Assert.Equal("kept", fixedSegment.Read().GetText());
            Assert.Equal(4096, fixedSegment.Size);
        }

        [Fact]
        public void TheLayoutVersionSaysWhetherASegmentGrows()
        {
            using var growableName = new TestName("grow");
            using var fixedName = new TestName("fixed");
            using (SharedMemorySegment.Create(growableName, 100, new SharedMemoryOptions { Growable = true, MaximumSize = 1 << 20 }))
            using (SharedMemorySegment.Create(fixedName, 100))
            {
                byte[] growable = ReadHeader(growableName);
                byte[] fixedHeader = ReadHeader(fixedName);
                Assert.Equal(2, BitConverter.ToUInt16(growable, SegmentLayout.LayoutVersionOffset));
                Assert.Equal(1 << 20, BitConverter.ToInt64(growable, SegmentLayout.MaxSizeOffset));
                Assert.Equal(1, BitConverter.ToUInt16(fixedHeader, SegmentLayout.LayoutVersionOffset));
                Assert.Equal(0, BitConverter.ToInt64(fixedHeader, SegmentLayout.MaxSizeOffset));
            }
        }

        [Fact]
        public void GrowthStopsAtTheLargestSizeAndKeepsTheStoredPayload()
        {
            using var name = new TestName("grow");
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 1000, new SharedMemoryOptions { Growable = true, MaximumSize = 10_000 });
            segment.WriteText("kept");

            // Up to the largest size it grows, though not by a full quarter past it.
            segment.Write(new byte[9_000], SharedMemoryContentType.Bytes);
            Assert.Equal(10_000, segment.Size);
            segment.WriteText("kept");
            var error = Assert.Throws<SharedMemoryException>(() => segment.Write(new byte[10_001], SharedMemoryContentType.Bytes));
            Assert.Equal(SharedMemoryErrorCode.PayloadTooLarge, error.Code);
            Assert.Contains("10,000", error.Message);
            Assert.Equal("kept", segment.Read().GetText());

            var invalid = Assert.Throws<SharedMemoryException>(() =>
                SharedMemorySegment.Create("too-small-max", 1000, new SharedMemoryOptions { Growable = true, MaximumSize = 999 }));
            Assert.Equal(SharedMemoryErrorCode.InvalidSize, invalid.Code);
            Assert.False(SharedMemorySegment.Exists("too-small-max"));
        }

        [Fact]
        public void AppendsGrowASegmentAFewTimesNotOnEveryAppend()
        {
            using var name = new TestName("grow");
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 4096, Growable);
            var append = new SharedMemoryWriteOptions { Append = true };
            var expected = new StringBuilder();
            long size = segment.Size;
            int grows = 0;
            for (int i = 0; i < 2000; i++)
            {
                string line = $"line {i:D5} of the growing log\n";
                expected.Append(line);
                segment.WriteText(line, SharedMemoryContentType.Text, append);
                if (segment.Size != size)
                {
                    size = segment.Size;
                    grows++;
                }
            }

            Assert.Equal(expected.ToString(), segment.Read().GetText());
            _output.WriteLine($"{expected.Length} bytes in 2000 appends; {grows} grows to {size} bytes.");
            Assert.InRange(grows, 1, 20);
        }

        [Fact]
        public void AHandleInThisProcessFollowsAGrowByAnotherProcess()
        {
            using var name = new TestName("grow");
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 4096, Growable);
            segment.WriteText("small");
            using SharedMemorySegment second = SharedMemorySegment.Open(name);
            Assert.Equal("small", second.Read().GetText());

            string[] lines = ChildProcess.Run("grow-writer", name, "300000");
            Assert.StartsWith("done ", lines.Last());
            long grownTo = long.Parse(lines.Last(line => line.StartsWith("grew ", StringComparison.Ordinal)).Substring(5), System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(grownTo >= 300_000, $"grew to {grownTo} only");

            // Both handles map the file again before they touch the payload.
            SharedMemoryContent content = second.Read();
            Assert.Equal(300_000, content.Data.Length);
            Assert.Equal(grownTo, second.Size);
            Assert.Equal(content.Data, segment.Read().Data);
            Assert.Equal(grownTo, segment.GetInfo().Size);

            // And a write through a handle that has not caught up goes to the grown file.
            byte[] next = Enumerable.Range(0, 200_000).Select(i => (byte)i).ToArray();
            segment.Write(next, SharedMemoryContentType.Bytes);
            Assert.Equal(next, second.Read().Data);
        }

        [Fact]
        public void TwoReaderProcessesSeeOnlyWholePayloadsWhileAnotherProcessGrowsTheSegmentTo64MiB()
        {
            using var name = new TestName("grow");
            using (SharedMemorySegment.Create(name, 1024, Growable))
            {
            }

            using ChildProcess first = ChildProcess.Start("checksum-reader", name);
            using ChildProcess second = ChildProcess.Start("checksum-reader", name);
            first.WaitForLine("reading");
            second.WaitForLine("reading");
            var stopwatch = Stopwatch.StartNew();
            string[] grower = ChildProcess.Run("grow-writer", name, (64 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture));
            string done = grower.Last();
            Assert.StartsWith("done ", done);
            int grows = grower.Count(line => line.StartsWith("grew ", StringComparison.Ordinal));
            Assert.True(grows >= 20, $"the writer grew the segment only {grows} times");

            foreach (ChildProcess reader in new[] { first, second })
            {
                Assert.False(reader.HasExited, "a reader ended early: " + string.Join(" | ", reader.RemainingLines()));
                reader.SendLine("stop");
                string final = reader.WaitForLine("final");
                _output.WriteLine($"reader: {final}");
                Assert.Equal(0, reader.WaitForExit());

                // The last read after the grower finished is its last, full 64 MiB payload.
                Assert.StartsWith($"final {64 << 20} ", final);
                string[] words = final.Split(' ');
                Assert.True(int.Parse(words[6], System.Globalization.CultureInfo.InvariantCulture) > 1, "the reader saw the segment at one version only");
            }

            _output.WriteLine($"grower: {grows} grows, {done}, {stopwatch.Elapsed.TotalSeconds:0.0} s");
        }

        [Theory]
        [InlineData("extended")]
        [InlineData("resized")]
        [InlineData("copying")]
        public void AGrowerKilledInTheMiddleOfAGrowLeavesTheOldPayloadOrAnInterruptedWriteNeverGarbage(string stage)
        {
            using var name = new TestName("grow");
            using (SharedMemorySegment.Create(name, 4096, Growable))
            {
            }

            Assert.StartsWith("done ", ChildProcess.Run("grow-writer", name, "4000").Last());
            using ChildProcess first = ChildProcess.Start("checksum-reader", name);
            using ChildProcess second = ChildProcess.Start("checksum-reader", name);
            first.WaitForLine("reading");
            second.WaitForLine("reading");

            using (ChildProcess grower = ChildProcess.Start("grow-and-pause", name, "1000000", stage))
            {
                Assert.Equal("paused " + stage, grower.WaitForLine("paused"));
                grower.Kill();
                grower.WaitForExit();
            }

            string expectedAfterKill = stage == "copying" ? "final interrupted " : "final 4000 ";
            foreach (ChildProcess reader in new[] { first, second })
            {
                reader.SendLine("stop");
                string final = reader.WaitForLine("final");
                _output.WriteLine($"{stage}: {final}");
                Assert.Equal(0, reader.WaitForExit());
                Assert.StartsWith(expectedAfterKill, final);
            }

            // The next writer grows the segment again from whatever the killed one left, and readers follow.
            using SharedMemorySegment segment = SharedMemorySegment.Open(name);
            byte[] payload = Enumerable.Range(0, 2_000_000).Select(i => (byte)(i * 13)).ToArray();
            segment.Write(payload, SharedMemoryContentType.Bytes);
            Assert.Equal(payload, segment.Read().Data);
            Assert.Equal(2_500_000, segment.Size);
            using ChildProcess late = ChildProcess.Start("session", name);
            late.WaitForLine("open");
            late.SendLine("info");
            Assert.StartsWith("info 2000000 ", late.WaitForLine("info"));
        }

        [Fact(Skip = NeedsLinuxRoot, SkipType = typeof(Platform), SkipUnless = nameof(Platform.IsLinuxRoot))]
        public void AGrowOnAFullStoreFailsWithOutOfSpaceAndKeepsTheSegmentAsItWas()
        {
            string? mount = SmallTmpfs.TryMount(1 << 20);
            Assert.SkipWhen(mount is null, "This user may not mount a tmpfs.");
            try
            {
                using var store = new TempStore(Path.Combine(mount!, "root"));
                using SharedMemorySegment segment = SharedMemorySegment.Create("full", 4096, Growable);
                segment.WriteText("kept");
                var error = Assert.Throws<SharedMemoryException>(() => segment.Write(new byte[2 << 20], SharedMemoryContentType.Bytes));
                Assert.Equal(SharedMemoryErrorCode.OutOfSpace, error.Code);

                // The file is as long as before, the payload unchanged, and another process reads it.
                Assert.Equal(SegmentLayout.HeaderSize + 4096, new FileInfo(Path.Combine(store.UserStore, "full.pssm")).Length);
                Assert.Equal(4096, segment.Size);
                Assert.Equal("kept", segment.Read().GetText());
                Assert.StartsWith("Text ", ChildProcess.Run("read", "full")[0]);
                Assert.EndsWith(" kept", ChildProcess.Run("read", "full")[0]);

                // A grow that fits still works.
                segment.Write(new byte[100_000], SharedMemoryContentType.Bytes);
                Assert.Equal(125_000, segment.Size);
            }
            finally
            {
                SmallTmpfs.Unmount(mount!);
            }
        }

        [Theory]
        [InlineData(SegmentLayout.MaxSizeOffset, 100L)]
        [InlineData(SegmentLayout.MaxSizeOffset, (1L << 40) + 1)]
        [InlineData(SegmentLayout.CapacityOffset, 0L)]
        public void AnOpenHandleReportsAGrowableHeaderDamagedSinceItOpened(int offset, long value)
        {
            using var name = new TestName("grow");
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 4096, Growable);
            segment.WriteText("kept");
            Assert.Equal("kept", segment.Read().GetText());
            using (var stream = new FileStream(SegmentStore.For(SharedMemoryScope.User).PathOf(name), FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
            {
                stream.Position = offset;
                stream.Write(BitConverter.GetBytes(value));
            }

            var error = Assert.Throws<SharedMemoryException>(() => segment.Read());
            Assert.Equal(SharedMemoryErrorCode.Corrupted, error.Code);
        }

        private static byte[] ReadHeader(string name)
        {
            using var stream = new FileStream(SegmentStore.For(SharedMemoryScope.User).PathOf(name), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var header = new byte[SegmentLayout.HeaderSize];
            stream.ReadExactly(header);
            return header;
        }
    }
}
