using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace PSSharedMemory.Engine.Tests
{
    /// <summary>Conditional writes, appends, waits for a newer version, and who holds the lock, across real processes.</summary>
    public sealed class VersionAndHolderTests
    {
        private readonly ITestOutputHelper _output;

        public VersionAndHolderTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void AConditionalWriteHappensOnlyAtTheExpectedVersionAndOtherwiseChangesNothing()
        {
            using var name = new TestName("cas");
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 64);
            long first = segment.WriteText("one");
            long second = segment.WriteText("two", SharedMemoryContentType.Text, new SharedMemoryWriteOptions { IfVersion = first });
            Assert.Equal(first + 1, second);

            var error = Assert.Throws<SharedMemoryException>(() =>
                segment.WriteText("stale", SharedMemoryContentType.Text, new SharedMemoryWriteOptions { IfVersion = first }));
            Assert.Equal(SharedMemoryErrorCode.VersionMismatch, error.Code);
            Assert.Equal(second, error.CurrentVersion);
            Assert.Contains($"version {second}, not {first}", error.Message);
            SharedMemoryContent content = segment.Read();
            Assert.Equal("two", content.GetText());
            Assert.Equal(second, content.Version);
        }

        [Fact]
        public void FourProcessesOfConditionalIncrementsWithRetryReachExactlyTheirSum()
        {
            using var name = new TestName("cas");
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 64);
            segment.WriteText("0");
            ChildProcess[] children = Enumerable.Range(0, 4).Select(_ => ChildProcess.Start("cas-increment", name, "100")).ToArray();
            try
            {
                foreach (ChildProcess child in children)
                {
                    _output.WriteLine(child.WaitForLine("done"));
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

            Assert.Equal("400", segment.Read().GetText());
        }

        [Fact]
        public void FourProcessesOfAppendsGiveEveryLineWholeAndInEachWritersOrder()
        {
            using var name = new TestName("append");
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 64 * 1024);
            ChildProcess[] children = Enumerable.Range(0, 4).Select(i => ChildProcess.Start("append-lines", name, "w" + i, "100")).ToArray();
            try
            {
                foreach (ChildProcess child in children)
                {
                    child.WaitForLine("done");
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

            SharedMemoryContent content = segment.Read();
            Assert.Equal(SharedMemoryContentType.Text, content.ContentType);
            Assert.Equal(400, content.Version);
            string[] lines = content.GetText().TrimEnd('\n').Split('\n');
            Assert.Equal(400, lines.Length);
            for (int writer = 0; writer < 4; writer++)
            {
                int[] mine = lines.Where(l => l.StartsWith("w" + writer + " ", StringComparison.Ordinal)).Select(l => int.Parse(l.Split(' ')[1])).ToArray();
                Assert.Equal(Enumerable.Range(0, 100), mine);
            }
        }

        [Fact]
        public void AnAppendOfAnotherTypeOrPastTheSizeFailsAndKeepsThePayload()
        {
            using var name = new TestName("append");
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 8);
            var append = new SharedMemoryWriteOptions { Append = true };
            segment.WriteText("abc", SharedMemoryContentType.Text, append);
            segment.WriteText("de", SharedMemoryContentType.Text, append);

            var mismatch = Assert.Throws<SharedMemoryException>(() => segment.Write(new byte[] { 1 }, 0, 1, SharedMemoryContentType.Bytes, append));
            Assert.Equal(SharedMemoryErrorCode.ContentTypeMismatch, mismatch.Code);
            var tooLarge = Assert.Throws<SharedMemoryException>(() => segment.WriteText("fghi", SharedMemoryContentType.Text, append));
            Assert.Equal(SharedMemoryErrorCode.PayloadTooLarge, tooLarge.Code);
            Assert.Equal("abcde", segment.Read().GetText());
            Assert.Equal(2, segment.Version);
        }

        [Fact]
        public void AWaitForANewerVersionReturnsAtOnceWhenItIsAlreadyNewerAndOtherwiseOnTheNextWrite()
        {
            using var name = new TestName("newer");
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 64);
            long before = segment.Version;

            // The write lands before the wait starts: a wait for "changed since now" would miss it.
            ChildProcess.Run("write", name, "early");
            Assert.Equal(before + 1, segment.WaitForVersion(before, TimeSpan.Zero, CancellationToken.None));

            long now = segment.Version;
            using ChildProcess waiter = ChildProcess.Start("session", name);
            waiter.WaitForLine("open");
            Task<long> wait = Task.Run(() => segment.WaitForVersion(now, TimeSpan.FromSeconds(60), CancellationToken.None));
            waiter.SendLine("write late");
            waiter.WaitForLine("wrote");
            Assert.True(wait.Wait(TimeSpan.FromSeconds(60)));
            Assert.Equal(now + 1, wait.Result);
            Assert.Equal(SharedMemoryErrorCode.WaitTimeout,
                Assert.Throws<SharedMemoryException>(() => segment.WaitForVersion(now + 1, TimeSpan.FromMilliseconds(50), CancellationToken.None)).Code);

            // Newer than, not merely different: a version below the current one does not end the wait.
            Assert.Equal(SharedMemoryErrorCode.WaitTimeout,
                Assert.Throws<SharedMemoryException>(() => segment.WaitForVersion(now + 10, TimeSpan.FromMilliseconds(50), CancellationToken.None)).Code);
        }

        [Fact]
        public void TheLockHolderIsShownAndNamedInALockTimeoutAndADeadHoldersReportWaitsForALockingCaller()
        {
            using var name = new TestName("holder");
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 64);
            Assert.False(segment.GetInfo().IsLocked);

            int holderId;
            using (ChildProcess holder = ChildProcess.Start("hold-lock", name))
            {
                holder.WaitForLine("locked");
                holderId = holder.Id;
                SharedMemorySegmentInfo info = segment.GetInfo();
                Assert.True(info.IsLocked);
                Assert.Equal(holderId, info.LockHolderProcessId);

                var timeout = Assert.Throws<SharedMemoryException>(() => segment.Lock(TimeSpan.FromMilliseconds(100)));
                Assert.Equal(SharedMemoryErrorCode.LockTimeout, timeout.Code);
                Assert.Equal(holderId, timeout.LockHolderProcessId);
                Assert.Contains("process " + holderId, timeout.Message);
                holder.Kill();
            }

            Assert.False(segment.GetInfo().IsLocked);

            // A reader's handle takes the lock over first; the report stays for the next locking caller.
            using (SharedMemorySegment reader = SharedMemorySegment.Open(name))
            using (reader.Lock(TimeSpan.FromSeconds(30)))
            {
                Assert.Equal(holderId, reader.AbandonedLockProcessId);
            }

            using (segment.Lock(TimeSpan.FromSeconds(30)))
            {
                Assert.Equal(holderId, segment.TakeAbandonedLockReport());
                Assert.Equal(0, segment.TakeAbandonedLockReport());
            }
        }
    }
}
