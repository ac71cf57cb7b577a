using System;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace PSSharedMemory.Engine.Tests
{
    /// <summary>
    /// WaitForChange and WaitForVersion: a waiter counts itself in the header so that writers wake it with a
    /// system call only when someone sleeps. Whatever ends the wait, the count must be taken back, or every
    /// later write of every process pays a needless wake-up call.
    /// </summary>
    public sealed class ChangeWaitTests
    {
        private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

        [Theory]
        [InlineData(0L, 2, false)] // the first wait of a handle sleeps at once
        [InlineData(100L, 2, true)] // 0.1 ms after the last wait: a tight exchange, spin
        [InlineData(900L, 2, true)]
        [InlineData(1_100L, 2, false)] // over 1 ms: a paced caller, sleep at once
        [InlineData(3_000L, 8, false)]
        [InlineData(100L, 1, false)] // one processor: the answer cannot come while this one spins
        public void AWaitSpinsOnlyInATightExchange(long microsecondsSinceLastWait, int processors, bool spins)
        {
            long now = 1_000_000_000L;
            long last = microsecondsSinceLastWait == 0 ? 0 : now - (microsecondsSinceLastWait * System.Diagnostics.Stopwatch.Frequency / 1_000_000);
            Assert.Equal(spins, PayloadChannel.ShouldSpin(last, now, processors));
        }

        [Theory]
        [InlineData("a write")]
        [InlineData("a timeout")]
        [InlineData("a cancellation")]
        [InlineData("a removal")]
        [InlineData("a version above the one waited past")]
        public void AWaitLeavesNoWaiterCountedWhateverEndsIt(string ending)
        {
            using var name = new TestName("changewait");
            using var segment = SharedMemorySegment.Create(name, 4096);
            using var writer = SharedMemorySegment.Open(name);
            using var probe = new HeaderProbe(name);
            using var cancel = new CancellationTokenSource();
            long since = segment.Version;
            TimeSpan timeout = ending == "a timeout" ? TimeSpan.FromMilliseconds(300) : Generous;

            Task wait = Task.Run(() => ending == "a version above the one waited past"
                ? segment.WaitForVersion(since, timeout, cancel.Token)
                : segment.WaitForChange(since, timeout, cancel.Token));
            if (ending != "a timeout")
            {
                // Counted: the waiter is about to sleep (or sleeps).
                HeaderProbe.SpinUntil(() => probe.ChangeWaiters == 1 || wait.IsCompleted, "the waiter is counted");
                Assert.False(wait.IsCompleted, "the wait ended before anything could end it");
            }

            switch (ending)
            {
                case "a write":
                case "a version above the one waited past":
                    writer.WriteText("next");
                    wait.Wait(Generous);
                    break;
                case "a timeout":
                    Assert.Throws<AggregateException>(() => wait.Wait(Generous));
                    break;
                case "a cancellation":
                    cancel.Cancel();
                    Assert.Throws<AggregateException>(() => wait.Wait(Generous));
                    break;
                case "a removal":
                    Assert.True(SharedMemorySegment.Remove(name));
                    Assert.Throws<AggregateException>(() => wait.Wait(Generous));
                    break;
            }

            Assert.True(wait.IsCompleted, "the wait did not end");
            Assert.Equal(0, probe.ChangeWaiters);
        }

        [Fact]
        public void AWaitThatFindsTheChangeAlreadyMadeReturnsAtOnceAndCountsNoWaiter()
        {
            using var name = new TestName("changewait");
            using var segment = SharedMemorySegment.Create(name, 4096);
            using var probe = new HeaderProbe(name);
            long since = segment.Version;
            segment.WriteText("already");
            Assert.Equal(since + 1, segment.WaitForChange(since, Generous, CancellationToken.None));
            Assert.Equal(0, probe.ChangeWaiters);
        }
    }
}
