using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using Xunit;

namespace PSSharedMemory.Engine.Tests
{
    /// <summary>Read(byte[], int) and TryRead: a consistent read into the caller's buffer, allocating nothing.</summary>
    public sealed class BufferReadTests
    {
        private static readonly SharedMemoryOptions Growable = new SharedMemoryOptions { Growable = true };
        private readonly ITestOutputHelper _output;

        public BufferReadTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void ThePayloadLandsAtTheOffsetAndTheRestOfTheBufferIsUntouched()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 4096);
            byte[] payload = Enumerable.Range(1, 100).Select(i => (byte)i).ToArray();
            long written = segment.Write(payload, SharedMemoryContentType.Bytes);

            byte[] buffer = Filled(200, 0xEE);
            int length = segment.Read(buffer, 7, SharedMemorySegment.DefaultLockTimeout, CancellationToken.None, out SharedMemoryContentType type, out long version);

            Assert.Equal(100, length);
            Assert.Equal(SharedMemoryContentType.Bytes, type);
            Assert.Equal(written, version);
            Assert.Equal(payload, buffer.Skip(7).Take(100));
            Assert.All(buffer.Take(7), b => Assert.Equal(0xEE, b));
            Assert.All(buffer.Skip(107), b => Assert.Equal(0xEE, b));

            // The short overload, and a buffer with exactly the room needed.
            byte[] exact = new byte[103];
            Assert.Equal(100, segment.Read(exact, 3));
            Assert.Equal(payload, exact.Skip(3));

            // Text is copied as its UTF-8 bytes.
            segment.WriteText("héllo");
            Assert.Equal(6, segment.Read(buffer, 0, SharedMemorySegment.DefaultLockTimeout, CancellationToken.None, out type, out _));
            Assert.Equal(SharedMemoryContentType.Text, type);
            Assert.Equal("héllo", System.Text.Encoding.UTF8.GetString(buffer, 0, 6));
        }

        [Fact]
        public void ABufferTooSmallFailsWithTheLengthNeededAndCopiesNothing()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 4096);
            segment.Write(Filled(1000, 0x11), SharedMemoryContentType.Bytes);

            byte[] buffer = Filled(1010, 0xEE);
            var error = Assert.Throws<SharedMemoryException>(() => segment.Read(buffer, 11));
            Assert.Equal(SharedMemoryErrorCode.BufferTooSmall, error.Code);
            Assert.Equal(1000, error.RequiredLength);
            Assert.Equal((string)name, error.SegmentName);
            Assert.Contains("1,000 bytes", error.Message);
            Assert.Contains("room for 999 bytes from offset 11", error.Message);
            Assert.All(buffer, b => Assert.Equal(0xEE, b));

            // Other errors do not carry a length.
            Assert.Null(new SharedMemoryException(SharedMemoryErrorCode.NotFound, "x", "m").RequiredLength);
        }

        [Fact]
        public void TryReadSaysHowMuchRoomIsNeededSoTheCallerCanRetry()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 64 * 1024);
            byte[] payload = Enumerable.Range(0, 50_000).Select(i => (byte)(i * 31)).ToArray();
            long written = segment.Write(payload, SharedMemoryContentType.Bytes);

            byte[] buffer = Filled(4096, 0xEE);
            Assert.False(segment.TryRead(buffer, 0, out int length, out long version));
            Assert.Equal(50_000, length);
            Assert.Equal(written, version);
            Assert.All(buffer, b => Assert.Equal(0xEE, b));

            buffer = new byte[length];
            Assert.True(segment.TryRead(buffer, 0, SharedMemorySegment.DefaultLockTimeout, CancellationToken.None, out length, out SharedMemoryContentType type, out version));
            Assert.Equal(50_000, length);
            Assert.Equal(SharedMemoryContentType.Bytes, type);
            Assert.Equal(written, version);
            Assert.Equal(payload, buffer);
        }

        [Fact]
        public void TheOffsetMustLieWithinTheBuffer()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 64);
            var buffer = new byte[16];

            Assert.Equal("buffer", Assert.Throws<ArgumentNullException>(() => segment.Read(null!, 0)).ParamName);
            Assert.Equal("buffer", Assert.Throws<ArgumentNullException>(() => segment.TryRead(null!, 0, out _, out _)).ParamName);
            foreach (int offset in new[] { -1, 17, int.MinValue, int.MaxValue })
            {
                Assert.Equal("offset", Assert.Throws<ArgumentOutOfRangeException>(() => segment.Read(buffer, offset)).ParamName);
                Assert.Equal("offset", Assert.Throws<ArgumentOutOfRangeException>(() => segment.TryRead(buffer, offset, out _, out _)).ParamName);
            }

            // The end of the buffer is a valid offset with no room: an empty payload fits there, one byte does not.
            Assert.Equal(0, segment.Read(buffer, 16));
            Assert.Equal(0, segment.Read(Array.Empty<byte>(), 0));
            segment.Write(new byte[] { 42 }, SharedMemoryContentType.Bytes);
            Assert.Equal(1, Assert.Throws<SharedMemoryException>(() => segment.Read(buffer, 16)).RequiredLength);
            Assert.False(segment.TryRead(buffer, 16, out int length, out _));
            Assert.Equal(1, length);
            Assert.Equal(1, segment.Read(buffer, 15));
            Assert.Equal(42, buffer[15]);
        }

        [Fact]
        public void AQueueIsRefusedAsReadRefusesIt()
        {
            using var name = new TestName();
            using SharedMemorySegment queue = SharedMemorySegment.Create(name, 1024, new SharedMemoryOptions { Kind = SharedMemorySegmentKind.Queue });
            var buffer = new byte[1024];
            Assert.Equal(SharedMemoryErrorCode.WrongKind, Assert.Throws<SharedMemoryException>(() => queue.Read(buffer, 0)).Code);
            Assert.Equal(SharedMemoryErrorCode.WrongKind, Assert.Throws<SharedMemoryException>(() => queue.TryRead(buffer, 0, out _, out _)).Code);
            Assert.Equal(SharedMemoryErrorCode.WrongKind, Assert.Throws<SharedMemoryException>(() => queue.Read()).Code);
        }

        [Fact]
        public void AReadIntoAReusedBufferAllocatesNothing()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 2 << 20);
            segment.Write(Filled(1 << 20, 0x5A), SharedMemoryContentType.Bytes);
            var buffer = new byte[1 << 20];
            segment.Read(buffer, 0);
            segment.TryRead(buffer, 0, out _, out _);

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++)
            {
                segment.Read(buffer, 0);
                segment.TryRead(buffer, 0, out _, out _);
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 1024, $"40 reads of 1 MiB allocated {allocated} bytes");
            Assert.All(buffer, b => Assert.Equal(0x5A, b));
        }

        [Fact]
        public void AHandleFollowsAGrowByAnotherProcess()
        {
            using var name = new TestName("grow");
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 4096, Growable);
            segment.WriteText("small");
            var buffer = new byte[400_000];
            Assert.Equal(5, segment.Read(buffer, 0));

            string[] lines = ChildProcess.Run("grow-writer", name, "300000");
            Assert.StartsWith("done ", lines.Last());
            Assert.True(segment.GetInfo().Size >= 300_000);

            // This handle still maps the small file; the read maps the grown one and copies all of it.
            int length = segment.Read(buffer, 100_000, SharedMemorySegment.DefaultLockTimeout, CancellationToken.None, out SharedMemoryContentType type, out _);
            Assert.Equal(300_000, length);
            Assert.Equal(SharedMemoryContentType.Bytes, type);
            Assert.Equal(segment.Read().Data, buffer.Skip(100_000).Take(300_000));
            Assert.True(HasValidChecksum(buffer, 100_000, length));
        }

        [Fact]
        public void ReadsIntoAReusedBufferNeverSeeATornPayloadWhileAnotherProcessWrites()
        {
            using var name = new TestName();
            using (SharedMemorySegment created = SharedMemorySegment.Create(name, 256 * 1024))
            {
                var seed = new byte[64];
                SHA256.HashData(seed.AsSpan(0, 32)).CopyTo(seed, 32);
                created.Write(seed, SharedMemoryContentType.Bytes);
            }

            using SharedMemorySegment segment = SharedMemorySegment.Open(name);
            using ChildProcess writer = ChildProcess.Start("checksummed-writer", name);
            writer.WaitForLine("writing");

            // One buffer for every read, as a caller reading in a loop would have: a torn copy would leave the
            // bytes of two writes in it. The time cap only turns a stalled writer into a loud failure.
            const int DistinctWrites = 100;
            var buffer = new byte[256 * 1024];
            int reads = 0;
            var versions = new System.Collections.Generic.HashSet<long>();
            var stopwatch = Stopwatch.StartNew();
            while (versions.Count < DistinctWrites)
            {
                Assert.True(stopwatch.Elapsed < TimeSpan.FromMinutes(2),
                    $"in 2 minutes {reads} reads saw only {versions.Count} of {DistinctWrites} distinct writes; is the writer stuck?");
                bool fitted = segment.TryRead(buffer, 0, SharedMemorySegment.DefaultLockTimeout, CancellationToken.None, out int length, out _, out long version);
                Assert.True(fitted, $"a payload of {length} bytes did not fit a buffer as large as the segment");
                Assert.True(length >= 33, $"payload of {length} bytes is too short");
                Assert.True(HasValidChecksum(buffer, 0, length), $"torn payload of {length} bytes at version {version} after {reads} good reads");
                versions.Add(version);
                reads++;
            }

            writer.SendLine("stop");
            string writes = writer.WaitForLine("writes");
            _output.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0} checked reads saw {1} distinct writes in {2:0.0} s; writer: {3}.", reads, versions.Count, stopwatch.Elapsed.TotalSeconds, writes));
        }

        private static byte[] Filled(int length, byte value)
        {
            var bytes = new byte[length];
            bytes.AsSpan().Fill(value);
            return bytes;
        }

        /// <summary>The last 32 bytes are the SHA-256 of the others, as the test helper writes them.</summary>
        private static bool HasValidChecksum(byte[] buffer, int offset, int length) =>
            length >= 33 && SHA256.HashData(buffer.AsSpan(offset, length - 32)).AsSpan().SequenceEqual(buffer.AsSpan(offset + length - 32, 32));
    }
}
