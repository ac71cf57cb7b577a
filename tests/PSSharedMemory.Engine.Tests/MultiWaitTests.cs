using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using Xunit;

namespace PSSharedMemory.Engine.Tests
{
    /// <summary>
    /// SharedMemorySegment.WaitForAny: one wait on several segments, woken by writes of other processes.
    /// Waits that must be woken run with a sleep slice far longer than their timeout
    /// (<see cref="MultiWait.SliceMilliseconds"/>), so a wait that a write, a removal, a close or a
    /// cancellation failed to wake sleeps to its 30 s timeout; the tests require only that it ended within
    /// 10 s of what should wake it, and print how long it took.
    /// </summary>
    public sealed class MultiWaitTests : IDisposable
    {
        private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);
        private readonly ITestOutputHelper _output;
        private readonly List<TestName> _names = new List<TestName>();
        private readonly List<SharedMemorySegment> _segments = new List<SharedMemorySegment>();

        public MultiWaitTests(ITestOutputHelper output) => _output = output;

        public void Dispose()
        {
            MultiWait.SliceMilliseconds = 200;
            MultiWait.DisableFutexWaitv = false;
            foreach (SharedMemorySegment segment in _segments)
            {
                segment.Dispose();
            }

            foreach (TestName name in _names)
            {
                name.Dispose();
            }
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void AWaitOnThreeSegmentsReturnsEachOneAnotherProcessWrites(bool withoutFutexWaitv)
        {
            // Without futex_waitv (an older Linux) the wait moves from word to word in short slices; with it, or
            // with Windows' semaphores, nothing but the writer's wake ends a sleep shorter than the slice.
            MultiWait.DisableFutexWaitv = withoutFutexWaitv;
            MultiWait.SliceMilliseconds = 600_000;
            SharedMemorySegment[] segments = CreateSegments(3);
            using var probes = new Probes(segments);
            using ChildProcess writer = ChildProcess.Start("write-each", string.Join(",", segments.Select(s => s.Name)));
            writer.WaitForLine("ready");

            var latencies = new List<double>();
            foreach (int target in new[] { 0, 1, 2, 2, 0, 1, 1, 2, 0 })
            {
                long[] since = segments.Select(s => s.Version).ToArray();
                using var waiter = new WaiterThread(() => SharedMemorySegment.WaitForAny(segments, since, Generous, CancellationToken.None));
                probes.WaitUntilCounted(waiter);

                writer.SendLine(target.ToString(CultureInfo.InvariantCulture));
                string[] wrote = writer.WaitForLine("wrote ").Split(' ');
                IReadOnlyList<int> ready = Assert.IsAssignableFrom<IReadOnlyList<int>>(waiter.Result());
                Assert.Equal(new[] { target }, ready);
                Assert.Equal(since[target] + 1, segments[target].Version);
                Assert.Equal(wrote[3], segments[target].ReadText(out _, out _));
                latencies.Add(AssertWoken(long.Parse(wrote[3], CultureInfo.InvariantCulture), waiter.Ended, "the write"));
            }

            probes.AssertNoWaiters();
            _output.WriteLine($"{(withoutFutexWaitv ? "slices over the words" : Environment.OSVersion.Platform == PlatformID.Win32NT ? "WaitAny" : "futex_waitv")}: from another process's write to the wait's return, ms: "
                + string.Join(", ", latencies.Select(l => l.ToString("0.00", CultureInfo.InvariantCulture)))
                + $"; median {Median(latencies):0.00}, largest {latencies.Max():0.00}");
            if (!withoutFutexWaitv && OperatingSystem.IsLinux() && Environment.OSVersion.Version >= new Version(5, 16))
            {
                // The kernel has futex_waitv: the waits above must have used it, not fallen back to slices.
                Assert.True(MultiWait.FutexWaitvWorks, "futex_waitv was not used on a kernel that has it");
            }
        }

        [Fact]
        public void AWaitReturnsAtOnceWithEverySegmentAlreadyNewer()
        {
            SharedMemorySegment[] segments = CreateSegments(3);
            segments[1].WriteText("b");
            segments[2].WriteText("c");
            segments[2].WriteText("c again");

            Assert.Equal(new[] { 1, 2 }, SharedMemorySegment.WaitForAny(segments, new long[] { 0, 0, 0 }, TimeSpan.Zero, CancellationToken.None));
            Assert.Equal(new[] { 2 }, SharedMemorySegment.WaitForAny(segments, new long[] { 0, 1, 1 }, TimeSpan.Zero, CancellationToken.None));

            // Listed twice, with two versions: each entry is judged by its own.
            SharedMemorySegment[] twice = { segments[1], segments[1] };
            Assert.Equal(new[] { 1 }, SharedMemorySegment.WaitForAny(twice, new long[] { 1, 0 }, TimeSpan.Zero, CancellationToken.None));

            // Exactly at the current versions nothing is newer.
            var timeout = Assert.Throws<SharedMemoryException>(() => SharedMemorySegment.WaitForAny(segments, new long[] { 0, 1, 2 }, TimeSpan.Zero, CancellationToken.None));
            Assert.Equal(SharedMemoryErrorCode.WaitTimeout, timeout.Code);
        }

        [Fact]
        public void AWaitThatNothingEndsTimesOut()
        {
            SharedMemorySegment[] segments = CreateSegments(3);
            long[] since = { 0, 0, 0 };
            var stopwatch = Stopwatch.StartNew();
            var timeout = Assert.Throws<SharedMemoryException>(() => SharedMemorySegment.WaitForAny(segments, since, TimeSpan.FromMilliseconds(300), CancellationToken.None));
            Assert.True(stopwatch.ElapsedMilliseconds >= 290, $"it gave up after {stopwatch.ElapsedMilliseconds} ms of 300");
            Assert.Equal(SharedMemoryErrorCode.WaitTimeout, timeout.Code);
            Assert.Null(timeout.SegmentName);
            Assert.Equal($"None of the segments '{segments[0].Name}', '{segments[1].Name}', '{segments[2].Name}' changed within 0.3 seconds.", timeout.Message);

            Assert.False(SharedMemorySegment.TryWaitForAny(segments, since, TimeSpan.FromMilliseconds(50), CancellationToken.None, out IReadOnlyList<int> ready));
            Assert.Empty(ready);

            // One segment, listed twice: the message names it once, as the single wait's does.
            var single = Assert.Throws<SharedMemoryException>(() => SharedMemorySegment.WaitForAny(new[] { segments[0], segments[0] }, new long[] { 0, 0 }, TimeSpan.Zero, CancellationToken.None));
            Assert.Equal(segments[0].Name, single.SegmentName);
        }

        [Fact]
        public void ACancelledWaitEndsAtOnceAndUncountsItself()
        {
            MultiWait.SliceMilliseconds = 600_000;
            SharedMemorySegment[] segments = CreateSegments(3);
            using var probes = new Probes(segments);
            var latencies = new List<double>();
            for (int trial = 0; trial < 5; trial++)
            {
                using var cancel = new CancellationTokenSource();
                using var waiter = new WaiterThread(() => SharedMemorySegment.WaitForAny(segments, new long[] { 0, 0, 0 }, Generous, cancel.Token));
                probes.WaitUntilCounted(waiter);
                long cancelled = Stopwatch.GetTimestamp();
                cancel.Cancel();
                var error = Assert.IsAssignableFrom<OperationCanceledException>(waiter.Error());
                Assert.Equal(cancel.Token, error.CancellationToken);
                latencies.Add(AssertWoken(cancelled, waiter.Ended, "the cancel"));
            }

            probes.AssertNoWaiters();
            _output.WriteLine("from the cancel to the wait's end, ms: " + string.Join(", ", latencies.Select(l => l.ToString("0.00", CultureInfo.InvariantCulture))));
        }

        [Fact]
        public void ASegmentRemovedByAnotherProcessEndsTheWaitAndIsReported()
        {
            MultiWait.SliceMilliseconds = 600_000;
            SharedMemorySegment[] segments = CreateSegments(3);
            using var probes = new Probes(segments);
            using ChildProcess remover = ChildProcess.Start("write-each", string.Join(",", segments.Select(s => s.Name)));
            remover.WaitForLine("ready");
            using var waiter = new WaiterThread(() => SharedMemorySegment.WaitForAny(segments, new long[] { 0, 0, 0 }, Generous, CancellationToken.None));
            probes.WaitUntilCounted(waiter);

            long removing = Stopwatch.GetTimestamp();
            remover.SendLine("remove 1");
            Assert.Equal("removed 1 True", remover.WaitForLine("removed "));
            Assert.Equal(new[] { 1 }, Assert.IsAssignableFrom<IReadOnlyList<int>>(waiter.Result()));
            AssertWoken(removing, waiter.Ended, "the removal");
            Assert.True(segments[1].IsRemoved);
            Assert.False(segments[0].IsRemoved);

            // The removed one stays reported; a wait on the others alone goes on as before.
            Assert.Equal(new[] { 1 }, SharedMemorySegment.WaitForAny(segments, new long[] { 0, 0, 0 }, TimeSpan.Zero, CancellationToken.None));
            Assert.False(SharedMemorySegment.TryWaitForAny(new[] { segments[0], segments[2] }, new long[] { 0, 0 }, TimeSpan.Zero, CancellationToken.None, out _));
        }

        [Fact]
        public void AHandleClosedOnAnotherThreadEndsTheWait()
        {
            MultiWait.SliceMilliseconds = 600_000;
            SharedMemorySegment[] segments = CreateSegments(2);
            SharedMemorySegment closing = SharedMemorySegment.Open(segments[1].Name);
            _segments.Add(closing);
            SharedMemorySegment[] waited = { segments[0], closing };
            using var probes = new Probes(waited);
            using var waiter = new WaiterThread(() => SharedMemorySegment.WaitForAny(waited, new long[] { 0, 0 }, Generous, CancellationToken.None));
            probes.WaitUntilCounted(waiter);

            long closed = Stopwatch.GetTimestamp();
            closing.Dispose();
            Assert.IsType<ObjectDisposedException>(waiter.Error());
            AssertWoken(closed, waiter.Ended, "the close");
            probes.AssertNoWaiters();
        }

        [Fact]
        public void AWaitOnMoreSegmentsThanOneSystemCallTakesSeesEachOfThem()
        {
            // futex_waitv takes 128 words (one is the cancellation's), WaitAny 64 handles: the rest are
            // looked at between short slices.
            MultiWait.SliceMilliseconds = 600_000;
            SharedMemorySegment[] segments = CreateSegments(130);
            using var cancel = new CancellationTokenSource();
            foreach (int target in new[] { 129, 0, 64, 127 })
            {
                long[] since = segments.Select(s => s.Version).ToArray();
                using var probe = new HeaderProbe(segments[target].Name);
                using var waiter = new WaiterThread(() => SharedMemorySegment.WaitForAny(segments, since, Generous, cancel.Token));
                HeaderProbe.SpinUntil(() => probe.ChangeWaiters == 1 || waiter.HasEnded, "the waiter is counted in the header");
                long written = Stopwatch.GetTimestamp();
                using (SharedMemorySegment other = SharedMemorySegment.Open(segments[target].Name))
                {
                    other.WriteText("now");
                }

                Assert.Equal(new[] { target }, Assert.IsAssignableFrom<IReadOnlyList<int>>(waiter.Result()));
                AssertWoken(written, waiter.Ended, "the write");
            }
        }

        [Fact]
        public void WrongArgumentsAreRefused()
        {
            SharedMemorySegment[] segments = CreateSegments(2);
            Assert.Throws<ArgumentException>(() => SharedMemorySegment.WaitForAny(Array.Empty<SharedMemorySegment>(), Array.Empty<long>(), TimeSpan.Zero, CancellationToken.None));
            Assert.Throws<ArgumentException>(() => SharedMemorySegment.WaitForAny(segments, new long[] { 0 }, TimeSpan.Zero, CancellationToken.None));
            Assert.Throws<ArgumentNullException>(() => SharedMemorySegment.WaitForAny(new[] { segments[0], null! }, new long[] { 0, 0 }, TimeSpan.Zero, CancellationToken.None));
            Assert.Throws<ArgumentOutOfRangeException>(() => SharedMemorySegment.WaitForAny(segments, new long[] { 0, 0 }, TimeSpan.FromSeconds(-2), CancellationToken.None));

            segments[0].Dispose();
            Assert.Throws<ObjectDisposedException>(() => SharedMemorySegment.WaitForAny(segments, new long[] { 0, 0 }, TimeSpan.Zero, CancellationToken.None));
        }

        private SharedMemorySegment[] CreateSegments(int count)
        {
            var created = new SharedMemorySegment[count];
            for (int i = 0; i < count; i++)
            {
                var name = new TestName("multiwait");
                _names.Add(name);
                created[i] = SharedMemorySegment.Create(name, 64);
                _segments.Add(created[i]);
            }

            return created;
        }

        /// <summary>The milliseconds from <paramref name="cause"/> to <paramref name="ended"/>; fails when the wait was not woken but slept to its timeout.</summary>
        private static double AssertWoken(long cause, long ended, string what)
        {
            double milliseconds = Stopwatch.GetElapsedTime(cause, ended).TotalMilliseconds;
            Assert.True(milliseconds < 10_000, $"the wait ended {milliseconds:0} ms after {what}, as if nothing woke it before its {Generous.TotalSeconds} s timeout");
            return milliseconds;
        }

        private static double Median(List<double> values)
        {
            var sorted = values.OrderBy(v => v).ToList();
            return sorted[sorted.Count / 2];
        }

        /// <summary>Runs a wait on a thread of its own and keeps its outcome and the moment it ended.</summary>
        private sealed class WaiterThread : IDisposable
        {
            private readonly Thread _thread;
            private object? _result;
            private Exception? _error;

            public WaiterThread(Func<object> wait)
            {
                _thread = new Thread(() =>
                {
                    try
                    {
                        _result = wait();
                    }
                    catch (Exception e)
                    {
                        _error = e;
                    }

                    Ended = Stopwatch.GetTimestamp();
                }) { IsBackground = true };
                _thread.Start();
            }

            public long Ended { get; private set; }

            public bool HasEnded => !_thread.IsAlive;

            public object Result()
            {
                Join();
                Assert.True(_error is null, $"the wait failed: {_error}");
                return _result!;
            }

            public Exception Error()
            {
                Join();
                Assert.True(_error is not null, $"the wait returned {_result} instead of failing");
                return _error!;
            }

            private void Join() => Assert.True(_thread.Join(TimeSpan.FromSeconds(60)), "the wait did not end within 60 seconds");

            public void Dispose() => _thread.Join(TimeSpan.FromSeconds(60));
        }

        /// <summary>A header probe for each segment: the waiter counts are the handshake that a wait sleeps.</summary>
        private sealed class Probes : IDisposable
        {
            private readonly HeaderProbe[] _probes;

            public Probes(IEnumerable<SharedMemorySegment> segments) => _probes = segments.Select(s => new HeaderProbe(s.Name)).ToArray();

            public void WaitUntilCounted(WaiterThread waiter) =>
                HeaderProbe.SpinUntil(() => _probes.All(p => p.ChangeWaiters == 1) || waiter.HasEnded, "the waiter is counted on every segment");

            public void AssertNoWaiters() => Assert.All(_probes, p => Assert.Equal(0, p.ChangeWaiters));

            public void Dispose()
            {
                foreach (HeaderProbe probe in _probes)
                {
                    probe.Dispose();
                }
            }
        }
    }
}
