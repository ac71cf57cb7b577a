using System;
using System.Diagnostics;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace PSSharedMemory.Engine.Tests
{
    public sealed class CrossProcessTests
    {
        private readonly ITestOutputHelper _output;

        public CrossProcessTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void CreatedInOneProcessIsReadInAnother()
        {
            using var name = new TestName();
            Assert.Equal(new[] { "created" }, ChildProcess.Run("create", name, "4096"));

            // The creating process has exited: the segment must still be there.
            using (SharedMemorySegment segment = SharedMemorySegment.Open(name))
            {
                Assert.Equal(4096, segment.Capacity);
                segment.WriteText("Hello from A ✓");
            }

            string[] lines = ChildProcess.Run("read", name);
            Assert.Equal(new[] { "Text 1 Hello from A ✓" }, lines);
        }

        [Fact]
        public void FourProcessesIncrementUnderTheLockWithoutLosingAnUpdate()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 64);
            segment.WriteText("0");

            ChildProcess[] children = Enumerable.Range(0, 4).Select(_ => ChildProcess.Start("increment", name, "500")).ToArray();
            try
            {
                foreach (ChildProcess child in children)
                {
                    Assert.Equal(0, child.WaitForExit());
                }
            }
            finally
            {
                foreach (ChildProcess child in children)
                {
                    child.Dispose();
                }
            }

            Assert.Equal("2000", segment.ReadText(out _, out _));
            Assert.Equal(2001, segment.Sequence);
        }

        [Fact]
        public void KillingTheLockHolderReleasesTheLock()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 64);
            using ChildProcess holder = ChildProcess.Start("hold-lock", name);
            holder.WaitForLine("locked");

            var timeout = Assert.Throws<SharedMemoryException>(() => segment.Lock(TimeSpan.FromMilliseconds(200)));
            Assert.Equal(SharedMemoryErrorCode.LockTimeout, timeout.Code);

            var stopwatch = Stopwatch.StartNew();
            int holderId = holder.Id;
            holder.Kill(); // SIGKILL: the holder gets no chance to clean up.
            using (segment.Lock(TimeSpan.FromSeconds(30)))
            {
                _output.WriteLine($"Acquired {stopwatch.Elapsed.TotalMilliseconds:0.0} ms after the kill.");
                Assert.True(segment.IsLockHeld);
                Assert.Equal(holderId, segment.AbandonedLockProcessId);
            }

            // A lock released the normal way is not reported as abandoned.
            using (segment.Lock(TimeSpan.FromSeconds(30)))
            {
                Assert.Equal(0, segment.AbandonedLockProcessId);
            }
        }

        [Fact]
        public void AWriterKilledMidWriteLeavesAnInterruptedWriteThatTheNextWriteClears()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 4096);
            segment.WriteText("before");
            using (ChildProcess writer = ChildProcess.Start("pause-write", name))
            {
                writer.WaitForLine("paused");
                writer.Kill();
            }

            var error = Assert.Throws<SharedMemoryException>(() => segment.Read());
            Assert.Equal(SharedMemoryErrorCode.InterruptedWrite, error.Code);
            Assert.Contains("interrupted", error.Message);
            Assert.Equal(new[] { "error InterruptedWrite" }, ChildProcess.Run("read", name));

            segment.WriteText("after");
            Assert.Equal("after", segment.Read().GetText());
        }

        [Fact]
        public void ReadersNeverSeeATornPayloadWhileAnotherProcessWrites()
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

            // Check reads until the writer has moved on many times, however slow the machine is; the
            // time cap only turns a stalled writer into a loud failure.
            const int DistinctWrites = 100;
            int reads = 0;
            var sequences = new System.Collections.Generic.HashSet<long>();
            var stopwatch = Stopwatch.StartNew();
            while (sequences.Count < DistinctWrites)
            {
                Assert.True(stopwatch.Elapsed < TimeSpan.FromMinutes(2),
                    $"in 2 minutes {reads} reads saw only {sequences.Count} of {DistinctWrites} distinct writes; is the writer stuck?");
                SharedMemoryContent content = segment.Read();
                byte[] data = content.Data;
                Assert.True(data.Length >= 33, $"payload of {data.Length} bytes is too short");
                byte[] expected = SHA256.HashData(data.AsSpan(0, data.Length - 32));
                Assert.True(expected.AsSpan().SequenceEqual(data.AsSpan(data.Length - 32)), $"torn payload at sequence {content.Sequence} after {reads} good reads");
                sequences.Add(content.Sequence);
                reads++;
            }

            writer.SendLine("stop");
            string writes = writer.WaitForLine("writes");
            _output.WriteLine($"{reads} checked reads saw {sequences.Count} distinct writes in {stopwatch.Elapsed.TotalSeconds:0.0} s; writer: {writes}.");
        }

        [Fact]
        public void AWaiterWakesWhenAnotherProcessWrites()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 64);
            long since = segment.Sequence;
            Task<long> waiter = Task.Run(() => segment.WaitForChange(since, TimeSpan.FromSeconds(60), CancellationToken.None));
            using (var probe = new HeaderProbe(name))
            {
                HeaderProbe.SpinUntil(() => probe.ChangeWaiters == 1 || waiter.IsCompleted, "the waiter is counted in the header");
            }

            Assert.False(waiter.IsCompleted);

            ChildProcess.Run("write", name, "ping");
            Assert.True(waiter.Wait(TimeSpan.FromSeconds(60)));
            Assert.Equal(since + 1, waiter.Result);
        }

        [Fact]
        public void AnotherProcessWaiterWakesWhenThisProcessWrites()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 64);
            using ChildProcess waiter = ChildProcess.Start("wait", name);
            waiter.WaitForLine("waiting");
            segment.WriteText("pong");
            Assert.Equal("changed 1", waiter.WaitForLine("changed"));
        }

        [Fact]
        public void RemovingWhileAnotherProcessHasItOpenIsSeenThereAndTheNameIsReusableAtOnce()
        {
            using var name = new TestName();
            using (SharedMemorySegment segment = SharedMemorySegment.Create(name, 64))
            {
                segment.WriteText("first");
            }

            using ChildProcess holder = ChildProcess.Start("open-and-wait", name);
            holder.WaitForLine("open");
            holder.SendLine("read");
            Assert.Equal("read first", holder.WaitForLine("read"));

            Assert.True(SharedMemorySegment.Remove(name));
            Assert.False(SharedMemorySegment.Exists(name));

            using SharedMemorySegment reused = SharedMemorySegment.Create(name, 128);
            reused.WriteText("second");

            holder.SendLine("read");
            Assert.Equal("error Removed", holder.WaitForLine("error"));
            Assert.Equal(new[] { "Text 1 second" }, ChildProcess.Run("read", name));
        }

        [Fact(Skip = "Unix only: needs root and setpriv on Linux to run a process as another user.", SkipType = typeof(Platform), SkipUnless = nameof(Platform.CanRunAsAnotherUser))]
        public void AUserWhoMayOpenButNotUnlinkAGlobalSegmentLeavesItWorking()
        {
            using var name = new TestName();
            try
            {
                using SharedMemorySegment segment = SharedMemorySegment.Create(name, 64, new SharedMemoryOptions { Scope = SharedMemoryScope.Global, Permissions = 0x1B6 /* 0666 */ });
                segment.WriteText("still here");

                // The global store is sticky: another user may open the file but not unlink it.
                string output = RunAsNobody("remove-global", name.Value);
                _output.WriteLine(output);
                Assert.Equal("error PermissionDenied", output.Split('\n')[0].Trim());
                Assert.Contains("owner", output);
                Assert.False(segment.IsRemoved);
                Assert.Equal("still here", segment.Read().GetText());
                Assert.True(SharedMemorySegment.Exists(name, SharedMemoryScope.Global));
            }
            finally
            {
                SharedMemorySegment.Remove(name, SharedMemoryScope.Global);
            }
        }

        private static bool CanRunAsNobody() => ChildProcess.CanRunAsNobody;

        private static string RunAsNobody(params string[] arguments)
        {
            string helper = ChildProcess.HelperForOtherUsers();
            var info = new ProcessStartInfo("/usr/bin/setpriv")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", helper }.Concat(arguments))
            {
                info.ArgumentList.Add(argument);
            }

            info.Environment["DOTNET_CLI_HOME"] = "/tmp";
            info.Environment["HOME"] = "/tmp";
            using Process other = Process.Start(info)!;
            Task<string> stderr = other.StandardError.ReadToEndAsync();
            string stdout = other.StandardOutput.ReadToEnd();
            Assert.True(other.WaitForExit(60_000));
            return stdout + stderr.GetAwaiter().GetResult();
        }

        [Fact(Skip = "Unix only: needs root and setpriv on Linux to run a process as another user.", SkipType = typeof(Platform), SkipUnless = nameof(Platform.CanRunAsAnotherUser))]
        public void SegmentsOfAnotherUserAreADifferentNamespace()
        {
            using var name = new TestName();
            using SharedMemorySegment mine = SharedMemorySegment.Create(name, 64);
            mine.WriteText("root's");

            // As user nobody, the same name is looked up in nobody's own store, where it does not exist.
            string output = RunAsNobody("read", name.Value);
            _output.WriteLine(output);
            Assert.Equal("error NotFound", output.Split('\n')[0].Trim());
        }
    }
}
