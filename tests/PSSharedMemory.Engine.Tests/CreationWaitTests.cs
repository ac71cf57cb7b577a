using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace PSSharedMemory.Engine.Tests
{
    /// <summary>
    /// SharedMemorySegment.WaitForCreation: a wait for a name that does not exist yet, ended by another process
    /// creating it. Each wait is known to have begun (its watch set, its first look done) before the test
    /// creates anything, through the probe's first-look hook.
    /// </summary>
    public sealed class CreationWaitTests
    {
        /// <summary>A slice no test waits out: a wait that still ends promptly was woken by the store, not by a timer.</summary>
        private const int NoTimer = 600_000;

        private const string LinuxOnly = "Unix only: Linux watches the store's parent for a store that is missing or removed; Windows and macOS look for it on a timer, which this test stretches out of reach.";

        private readonly ITestOutputHelper _output;

        public CreationWaitTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void AWaitBegunBeforeTheSegmentExistsReturnsItOnceAnotherProcessCreatesAndWritesIt()
        {
            using var name = new TestName("creation");
            using StartedWait wait = StartedWait.Begin(name, TimeSpan.FromSeconds(60));
            Assert.False(SharedMemorySegment.Exists(name), "The name must not exist when the wait begins.");

            Assert.Equal(new[] { "created", "sequence 1" }, ChildProcess.Run("create-write", name, "4096", "first write ✓"));
            using SharedMemorySegment segment = wait.Result();
            _output.WriteLine(wait.Describe());

            // The wait may return between the creation and the first write; the write is the next version.
            Assert.Equal(1, segment.WaitForVersion(0, TimeSpan.FromSeconds(30), CancellationToken.None));
            Assert.Equal("first write ✓", segment.ReadText(out _, out long version));
            Assert.Equal(1, version);
        }

        [Fact(Skip = "Unix only: macOS has no notice of new files; its waits poll.", SkipType = typeof(Platform), SkipWhen = nameof(Platform.IsMacOS))]
        public void ASegmentPublishedRightAfterTheFirstLookEndsTheSleepAtOnce()
        {
            // The watch is set before the look: a creation between the look and the sleep is already queued
            // when the sleep starts. A watch set after the look would miss it, and this wait has no timer to rescue it.
            using var name = new TestName("creation");
            SharedMemorySegment.Create(name, 64).Dispose();
            Assert.True(SharedMemorySegment.Remove(name), "The store exists, so the wait watches it (not its parent).");
            using StartedWait wait = StartedWait.Begin(name, TimeSpan.FromSeconds(120), NoTimer,
                atFirstLook: () => Assert.Equal(new[] { "created", "sequence 1" }, ChildProcess.Run("create-write", name, "64", "in the gap")));

            using SharedMemorySegment segment = wait.Result();
            _output.WriteLine(wait.Describe());
            Assert.Equal("in the gap", segment.ReadText(out _, out _));
            Assert.Equal(1, wait.Probe.Looks);
            Assert.Equal(1, wait.Probe.Notices);
            Assert.Equal(0, wait.Probe.SlicesEnded);
        }

        [Fact]
        public void AWaitOnAStoreThatDoesNotExistYetReturnsWhenAnotherProcessCreatesTheStoreAndTheSegment()
        {
            using var store = NewTempStore();
            using var name = new TestName("creation");
            Assert.False(Directory.Exists(store.UserStore));
            using StartedWait wait = StartedWait.Begin(name, TimeSpan.FromSeconds(120), Platform.IsLinux ? NoTimer : null);
            Assert.False(Directory.Exists(store.UserStore), "A wait must not create the store: it only reads.");

            Assert.Equal(new[] { "created", "sequence 1" }, ChildProcess.Run("create-write", name, "64", "new store"));
            using SharedMemorySegment segment = wait.Result();
            _output.WriteLine(wait.Describe());
            Assert.Equal("new store", segment.ReadText(out _, out _));
            if (Platform.IsLinux)
            {
                // Woken by the store's parent (the store appeared), then by the store (the segment appeared).
                Assert.Equal(0, wait.Probe.SlicesEnded);
            }
        }

        [Fact(Skip = LinuxOnly, SkipType = typeof(Platform), SkipUnless = nameof(Platform.IsLinux))]
        public void AStoreRemovedAndMadeAgainDuringTheWaitIsWatchedAgain()
        {
            using var store = new TempStore();
            using var name = new TestName("creation");
            SharedMemorySegment.Create(name + "-other", 64).Dispose();
            Assert.True(SharedMemorySegment.Remove(name + "-other"));
            using StartedWait wait = StartedWait.Begin(name, TimeSpan.FromSeconds(120), NoTimer);

            Directory.Delete(store.UserStore);
            Assert.Equal(new[] { "created", "sequence 1" }, ChildProcess.Run("create-write", name, "64", "second store"));
            using SharedMemorySegment segment = wait.Result();
            _output.WriteLine(wait.Describe());
            Assert.Equal("second store", segment.ReadText(out _, out _));
            Assert.Equal(0, wait.Probe.SlicesEnded);
        }

        [Fact]
        public void TemporaryFilesAndOtherNamesInTheStoreDoNotEndTheWait()
        {
            using var store = NewTempStore();
            using var name = new TestName("creation");
            using var longer = new TestName(name + "x");
            SharedMemorySegment.Create(name + "-other", 64).Dispose();
            using StartedWait wait = StartedWait.Begin(name, TimeSpan.FromSeconds(120), Platform.IsLinux ? NoTimer : null);

            // What a create leaves in the store before it publishes, and names that are not this segment's.
            string directory = store.UserStore;
            File.WriteAllText(Path.Combine(directory, $".{name}.{Environment.ProcessId}.{Guid.NewGuid():N}.creating"), "not published");
            File.WriteAllText(Path.Combine(directory, $"{name}.pssm.tmp"), "not a segment");
            File.WriteAllText(Path.Combine(directory, $"{name}.txt"), "not a segment");
            Directory.CreateDirectory(Path.Combine(directory, $"{name}.d"));
            SharedMemorySegment.Create(longer, 64).Dispose();
            Assert.False(wait.Task.IsFaulted, "A file that is not the segment ended the wait with an error.");

            Assert.Equal(new[] { "created", "sequence 1" }, ChildProcess.Run("create-write", name, "64", "the real one"));
            using SharedMemorySegment segment = wait.Result();
            _output.WriteLine(wait.Describe());
            Assert.Equal(name.Value, segment.Name);
            Assert.Equal("the real one", segment.ReadText(out _, out _));
            if (Platform.IsLinux)
            {
                // Not even woken by them: one look before the sleep, and the sleep ended by the segment itself.
                Assert.Equal(1, wait.Probe.Looks);
                Assert.Equal(1, wait.Probe.Notices);
            }

            SharedMemorySegment.Remove(name + "-other");
        }

        [Fact]
        public void AWaitForANameNoOneCreatesFailsWithWaitTimeoutAfterItsTimeout()
        {
            using var name = new TestName("creation");
            var stopwatch = Stopwatch.StartNew();
            var error = Assert.Throws<SharedMemoryException>(() =>
                SharedMemorySegment.WaitForCreation(name, SharedMemoryScope.User, TimeSpan.FromMilliseconds(300), CancellationToken.None));
            TimeSpan elapsed = stopwatch.Elapsed;
            _output.WriteLine($"Timed out after {elapsed.TotalMilliseconds:0} ms.");
            Assert.Equal(SharedMemoryErrorCode.WaitTimeout, error.Code);
            Assert.Equal(name.Value, error.SegmentName);
            Assert.Equal($"No shared memory segment named '{name}' was created within 0.3 seconds.", error.Message);
            Assert.True(elapsed >= TimeSpan.FromMilliseconds(300), $"The wait gave up after {elapsed.TotalMilliseconds:0} ms, before its timeout.");

            // A zero timeout looks once.
            Assert.Equal(SharedMemoryErrorCode.WaitTimeout, Assert.Throws<SharedMemoryException>(() =>
                SharedMemorySegment.WaitForCreation(name, SharedMemoryScope.User, TimeSpan.Zero, CancellationToken.None)).Code);
            using (SharedMemorySegment.Create(name, 64))
            using (SharedMemorySegment existing = SharedMemorySegment.WaitForCreation(name, SharedMemoryScope.User, TimeSpan.Zero, CancellationToken.None))
            {
                Assert.Equal(64, existing.Size);
            }
        }

        [Fact]
        public void CancellingTheWaitEndsItWithOperationCanceledExceptionWithoutWaitingOutItsSlice()
        {
            using var name = new TestName("creation");
            int thread = 0;
            using StartedWait wait = StartedWait.Begin(name, Timeout.InfiniteTimeSpan, NoTimer,
                atFirstLook: () => thread = Platform.IsLinux ? Posix.ThreadId() : 0);
            if (Platform.IsLinux)
            {
                // Asleep, not about to sleep: only a cancellation that wakes the sleep ends this wait.
                Posix.WaitUntilInPoll(thread);
            }

            var stopwatch = Stopwatch.StartNew();
            wait.Cancellation.Cancel();
            Exception? ended = wait.Ended();
            _output.WriteLine($"Ended {stopwatch.Elapsed.TotalMilliseconds:0.0} ms after the cancellation. {wait.Describe()}");
            Assert.IsAssignableFrom<OperationCanceledException>(ended);
            Assert.Equal(0, wait.Probe.Notices);
        }

        [Fact(Skip = "Unix only: store modes.", SkipType = typeof(Platform), SkipWhen = nameof(Platform.IsWindows))]
        public void AWaitOnAnUntrustedStoreFailsAtOnceAsOpenDoes()
        {
            using var store = new TempStore();
            using var name = new TestName("creation");
            Directory.CreateDirectory(store.UserStore);
            Posix.Chmod(store.UserStore, 0x1ED /* 0755 */);
            var error = Assert.Throws<SharedMemoryException>(() =>
                SharedMemorySegment.WaitForCreation(name, SharedMemoryScope.User, TimeSpan.FromSeconds(5), CancellationToken.None));
            Assert.Equal(SharedMemoryErrorCode.UnsafePermissions, error.Code);
        }

        [Fact]
        public void AnInvalidNameOrTimeoutIsRefusedBeforeAnyWait()
        {
            Assert.Equal(SharedMemoryErrorCode.InvalidName, Assert.Throws<SharedMemoryException>(() =>
                SharedMemorySegment.WaitForCreation("-bad", SharedMemoryScope.User, TimeSpan.FromSeconds(5), CancellationToken.None)).Code);
            Assert.Throws<ArgumentOutOfRangeException>(() =>
                SharedMemorySegment.WaitForCreation("fine", SharedMemoryScope.User, TimeSpan.FromSeconds(-2), CancellationToken.None));
        }

        /// <summary>A fresh store root; on Windows under the temp folder, where the tests' /tmp paths do not lead.</summary>
        private static TempStore NewTempStore() =>
            new TempStore(Platform.IsWindows ? Path.Combine(Path.GetTempPath(), "pssm-store-" + Guid.NewGuid().ToString("N").Substring(0, 12)) : null);

        /// <summary>A WaitForCreation running on another thread, begun: its watch is set and its first look found nothing.</summary>
        private sealed class StartedWait : IDisposable
        {
            private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

            private StartedWait(Task<SharedMemorySegment> task, CreationWaitProbe probe, CancellationTokenSource cancellation)
            {
                Task = task;
                Probe = probe;
                Cancellation = cancellation;
            }

            public Task<SharedMemorySegment> Task { get; }

            public CreationWaitProbe Probe { get; }

            public CancellationTokenSource Cancellation { get; }

            /// <summary>
            /// Starts the wait and returns once it has begun. <paramref name="atFirstLook"/> runs on the waiting
            /// thread between its first look and its first sleep.
            /// </summary>
            public static StartedWait Begin(string name, TimeSpan timeout, int? sliceMilliseconds = null, Action? atFirstLook = null)
            {
                // Not disposed: the waiting thread may still be inside Set when this method returns.
                var began = new ManualResetEventSlim();
                var probe = new CreationWaitProbe
                {
                    SliceMilliseconds = sliceMilliseconds,
                    AfterFirstLook = () =>
                    {
                        try
                        {
                            atFirstLook?.Invoke();
                        }
                        finally
                        {
                            began.Set();
                        }
                    },
                };
                var cancellation = new CancellationTokenSource();
                Task<SharedMemorySegment> task = System.Threading.Tasks.Task.Run(() =>
                    SegmentCatalog.WaitForCreation(name, SharedMemoryScope.User, timeout, cancellation.Token, probe));
                var wait = new StartedWait(task, probe, cancellation);
                WaitHandle.WaitAny(new[] { began.WaitHandle, ((IAsyncResult)task).AsyncWaitHandle }, Generous);
                if (!began.IsSet)
                {
                    Exception? ended = wait.Ended();
                    wait.Dispose();
                    throw new Xunit.Sdk.XunitException($"The wait never began: {ended?.ToString() ?? "it returned a segment that should not exist"}");
                }

                return wait;
            }

            /// <summary>The segment the wait returned; fails the test (and cancels the wait) if it does not end within a generous minute.</summary>
            public SharedMemorySegment Result()
            {
                if (!((IAsyncResult)Task).AsyncWaitHandle.WaitOne(Generous))
                {
                    Cancellation.Cancel();
                    throw new Xunit.Sdk.XunitException($"The wait did not end within {Generous.TotalSeconds} seconds of the creation ({Describe()}).");
                }

                return Task.GetAwaiter().GetResult();
            }

            /// <summary>The exception the wait ended with, or null if it returned; fails the test if it does not end within a generous minute.</summary>
            public Exception? Ended()
            {
                if (!((IAsyncResult)Task).AsyncWaitHandle.WaitOne(Generous))
                {
                    throw new Xunit.Sdk.XunitException($"The wait did not end within {Generous.TotalSeconds} seconds ({Describe()}).");
                }

                try
                {
                    Task.GetAwaiter().GetResult().Dispose();
                    return null;
                }
                catch (Exception e)
                {
                    return e;
                }
            }

            public string Describe() =>
                $"Looks that found nothing: {Probe.Looks}; sleeps ended by a notice of the store: {Probe.Notices}; by their slice or the cancellation: {Probe.SlicesEnded}.";

            public void Dispose()
            {
                Cancellation.Cancel();
                if (((IAsyncResult)Task).AsyncWaitHandle.WaitOne(Generous) && Task.Status == TaskStatus.RanToCompletion)
                {
                    Task.Result.Dispose();
                }

                Cancellation.Dispose();
            }
        }
    }
}
