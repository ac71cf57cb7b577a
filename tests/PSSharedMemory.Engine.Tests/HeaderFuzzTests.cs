using System;
using System.Globalization;
using System.IO;
using System.Threading.Tasks;
using Xunit;

namespace PSSharedMemory.Engine.Tests
{
    /// <summary>
    /// Random bytes in any header field must give a clean error (or a valid read), never a crash,
    /// an out-of-bounds access or a hang.
    /// </summary>
    public sealed class HeaderFuzzTests
    {
        private static readonly SharedMemoryErrorCode[] Acceptable =
        {
            SharedMemoryErrorCode.Corrupted,
            SharedMemoryErrorCode.InterruptedWrite, // a random odd sequence reads as a write that never finished
            SharedMemoryErrorCode.NotFound,         // a random Removed flag reads as already removed
        };

        /// <summary>The seed every run uses, so a failure here fails the same way on the next run.</summary>
        private const int DefaultSeed = 20261127;

        /// <summary>Set to an integer to fuzz with another seed, or to replay one a failure printed.</summary>
        private const string SeedVariable = "PSSHAREDMEMORY_FUZZ_SEED";

        [Theory]
        [InlineData("Magic", SegmentLayout.MagicOffset, 8)]
        [InlineData("LayoutVersion", SegmentLayout.LayoutVersionOffset, 2)]
        [InlineData("HeaderSize", SegmentLayout.HeaderSizeOffset, 2)]
        [InlineData("Flags", SegmentLayout.FlagsOffset, 4)]
        [InlineData("Capacity", SegmentLayout.CapacityOffset, 8)]
        [InlineData("Sequence", SegmentLayout.SequenceOffset, 8)]
        [InlineData("PayloadLength", SegmentLayout.PayloadLengthOffset, 8)]
        [InlineData("ContentType", SegmentLayout.ContentTypeOffset, 4)]
        [InlineData("ChangeWord", SegmentLayout.ChangeWordOffset, 4)]
        [InlineData("ChangeWaiters", SegmentLayout.ChangeWaitersOffset, 4)]
        [InlineData("LastWriterPid", SegmentLayout.LastWriterPidOffset, 4)]
        [InlineData("LastWriteTime", SegmentLayout.LastWriteTimeOffset, 8)]
        [InlineData("CreationTime", SegmentLayout.CreationTimeOffset, 8)]
        [InlineData("CreatorPid", SegmentLayout.CreatorPidOffset, 4)]
        [InlineData("LockWord", SegmentLayout.LockWordOffset, 4)]
        [InlineData("LockWaiters", SegmentLayout.LockWaitersOffset, 4)]
        [InlineData("LockOwnerPid", SegmentLayout.LockOwnerPidOffset, 4)]
        [InlineData("Reserved", 88, 40)]
        public void RandomBytesInAFieldGiveCorruptedOrAValidRead(string field, int offset, int size)
        {
            int seed = Seed();
            TestContext.Current.TestOutputHelper?.WriteLine($"{field}: seed {seed} ({SeedVariable}={seed} replays it)");

            // Each field gets its own stream of noise from the one seed (string.GetHashCode differs per run).
            var random = new Random(seed ^ StableHash(field));
            for (int trial = 0; trial < 25; trial++)
            {
                byte[] noise = new byte[size];
                random.NextBytes(noise);
                if (trial == 0)
                {
                    Array.Fill(noise, (byte)0xFF);
                }
                else if (trial == 1)
                {
                    Array.Clear(noise);
                }

                try
                {
                    DamageAndOpen(offset, noise);
                }
                catch (Exception e)
                {
                    throw new Xunit.Sdk.XunitException(
                        $"{field} trial {trial}, noise {Convert.ToHexString(noise)}: {e.Message} (replay with {SeedVariable}={seed})", e);
                }
            }
        }

        private static void DamageAndOpen(int offset, byte[] noise)
        {
            using var name = new TestName("fuzz");
            using (SharedMemorySegment segment = SharedMemorySegment.Create(name, 256))
            {
                segment.WriteText("valid payload");
            }

            Overwrite(name, offset, noise);
            RunBounded(() =>
            {
                try
                {
                    using SharedMemorySegment opened = SharedMemorySegment.Open(name);
                    SharedMemoryContent content = opened.Read();
                    Assert.InRange(content.Data.Length, 0, 256);
                    _ = opened.GetInfo();
                }
                catch (SharedMemoryException e)
                {
                    Assert.Contains(e.Code, Acceptable);
                    Assert.Contains(name.Value, e.Message);
                }
            });

            // Whatever the damage, the segment can be removed.
            SharedMemorySegment.Remove(name);
            Assert.False(SharedMemorySegment.Exists(name));
        }

        private static int Seed()
        {
            string? value = Environment.GetEnvironmentVariable(SeedVariable);
            if (string.IsNullOrEmpty(value))
            {
                return DefaultSeed;
            }

            Assert.True(int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed), $"{SeedVariable} must be an integer, not '{value}'");
            return seed;
        }

        // FNV-1a: the same on every run and every platform.
        private static int StableHash(string text)
        {
            uint hash = 2166136261;
            foreach (char c in text)
            {
                hash = (hash ^ c) * 16777619;
            }

            return unchecked((int)hash);
        }

        [Theory]
        [InlineData(0)]
        [InlineData(1)]
        [InlineData(127)]
        [InlineData(129)]
        [InlineData(1000)]
        public void AFileOfTheWrongLengthIsCorrupted(int length)
        {
            using var name = new TestName("fuzz");
            SharedMemorySegment.Create(name, 256).Dispose();
            File.WriteAllBytes(SegmentStore.For(SharedMemoryScope.User).PathOf(name), new byte[0]);
            using (var stream = new FileStream(SegmentStore.For(SharedMemoryScope.User).PathOf(name), FileMode.Open))
            {
                stream.SetLength(length);
            }

            var error = Assert.Throws<SharedMemoryException>(() => SharedMemorySegment.Open(name));
            Assert.Equal(SharedMemoryErrorCode.Corrupted, error.Code);
            Assert.Contains("Remove", error.Message);
            Assert.True(SharedMemorySegment.Remove(name));
        }

        [Theory]
        [InlineData("PayloadLength", SegmentLayout.PayloadLengthOffset)]
        [InlineData("Magic", SegmentLayout.MagicOffset)]
        [InlineData("Capacity", SegmentLayout.CapacityOffset)]
        [InlineData("LayoutVersion", SegmentLayout.LayoutVersionOffset)]
        public void AFieldCorruptedWhileOpenIsCaughtOnRead(string field, int offset)
        {
            using var name = new TestName("fuzz");
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 256);
            segment.WriteText("fine");
            Overwrite(name, offset, BitConverter.GetBytes((1L << 40) + 7));
            RunBounded(() =>
            {
                var error = Assert.Throws<SharedMemoryException>(() => segment.Read());
                Assert.True(error.Code == SharedMemoryErrorCode.Corrupted, $"damaging {field} gave {error.Code}");
                Assert.Contains(name.Value, error.Message);
            });
        }

        [Fact]
        public void ALengthCorruptedWhileOpenIsRepairedByTheNextWrite()
        {
            using var name = new TestName("fuzz");
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 256);
            segment.WriteText("fine");
            Overwrite(name, SegmentLayout.PayloadLengthOffset, BitConverter.GetBytes(1L << 40));
            Assert.Equal(SharedMemoryErrorCode.Corrupted, Assert.Throws<SharedMemoryException>(() => segment.Read()).Code);
            segment.WriteText("repaired");
            Assert.Equal("repaired", segment.Read().GetText());
        }

        private static void Overwrite(string name, int offset, byte[] bytes)
        {
            using var stream = new FileStream(SegmentStore.For(SharedMemoryScope.User).PathOf(name), FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            stream.Position = offset;
            stream.Write(bytes);
        }

        private static void RunBounded(Action action)
        {
            Task task = Task.Run(action);
            Assert.True(Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(60))).GetAwaiter().GetResult() == task, "the operation hung");
            task.GetAwaiter().GetResult();
        }
    }
}
