using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace PSSharedMemory.Engine.Tests
{
    public sealed class SegmentTests
    {
        [Theory]
        [InlineData("")]
        [InlineData("/")]
        [InlineData("\\")]
        [InlineData("..")]
        [InlineData(".hidden")]
        [InlineData("a/b")]
        [InlineData("a\\b")]
        [InlineData("a\0b")]
        [InlineData("-dash-first")]
        [InlineData("_underscore-first")]
        [InlineData("with space")]
        [InlineData("ünïcode")]
        [InlineData("colon:name")]
        [InlineData("star*")]
        public void InvalidNamesAreRejectedWithTheRule(string name)
        {
            var error = Assert.Throws<SharedMemoryException>(() => SharedMemorySegment.Create(name, 16));
            Assert.Equal(SharedMemoryErrorCode.InvalidName, error.Code);
            Assert.Contains("[A-Za-z0-9][A-Za-z0-9._-]{0,127}", error.Message);
            Assert.Equal(SharedMemoryErrorCode.InvalidName, Assert.Throws<SharedMemoryException>(() => SharedMemorySegment.Open(name)).Code);
            Assert.Equal(SharedMemoryErrorCode.InvalidName, Assert.Throws<SharedMemoryException>(() => SharedMemorySegment.Remove(name)).Code);
        }

        [Fact]
        public void NamesLongerThan128CharactersAreRejected()
        {
            Assert.True(SegmentName.IsValid(new string('a', 128)));
            var error = Assert.Throws<SharedMemoryException>(() => SharedMemorySegment.Create(new string('a', 129), 16));
            Assert.Equal(SharedMemoryErrorCode.InvalidName, error.Code);
        }

        [Theory]
        [InlineData("a")]
        [InlineData("Chat")]
        [InlineData("my.segment_1-2")]
        [InlineData("0")]
        public void ValidNamesWork(string name)
        {
            string unique = name + "." + Guid.NewGuid().ToString("N").Substring(0, 8);
            using var cleanup = new RemoveOnDispose(unique);
            using SharedMemorySegment segment = SharedMemorySegment.Create(unique, 16);
            Assert.Equal(unique, segment.Name);
        }

        [Fact]
        public void NamesAreCaseSensitive()
        {
            using var lower = new TestName("case");
            string upper = lower.Value.ToUpperInvariant();
            using var cleanup = new RemoveOnDispose(upper);
            using SharedMemorySegment a = SharedMemorySegment.Create(lower, 16);
            using SharedMemorySegment b = SharedMemorySegment.Create(upper, 16);
            a.WriteText("lower");
            b.WriteText("upper");
            Assert.Equal("lower", a.Read().GetText());
            Assert.Equal("upper", b.Read().GetText());
        }

        [Theory]
        [InlineData(0L)]
        [InlineData(-1L)]
        [InlineData(long.MinValue)]
        [InlineData(long.MaxValue)]
        [InlineData((1L << 40) + 1)]
        public void InvalidSizesAreRejected(long capacity)
        {
            using var name = new TestName();
            var error = Assert.Throws<SharedMemoryException>(() => SharedMemorySegment.Create(name, capacity));
            Assert.Equal(SharedMemoryErrorCode.InvalidSize, error.Code);
            Assert.False(SharedMemorySegment.Exists(name));
        }

        [Theory]
        [InlineData(1L)]
        [InlineData(1000L)]
        [InlineData(4097L)]
        [InlineData(65536L)]
        public void CapacityIsExactlyWhatWasRequested(long capacity)
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, capacity);
            Assert.Equal(capacity, segment.Capacity);
            using SharedMemorySegment reopened = SharedMemorySegment.Open(name);
            Assert.Equal(capacity, reopened.Capacity);
            Assert.Equal(capacity + SegmentLayout.HeaderSize, new FileInfo(SegmentStore.For(SharedMemoryScope.User).PathOf(name)).Length);
        }

        [Fact]
        public void CreatingAnExistingNameFailsAndKeepsTheData()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 64);
            segment.WriteText("kept");
            var error = Assert.Throws<SharedMemoryException>(() => SharedMemorySegment.Create(name, 128));
            Assert.Equal(SharedMemoryErrorCode.AlreadyExists, error.Code);
            Assert.Equal("kept", segment.Read().GetText());
            Assert.Equal(64, SharedMemorySegment.Open(name).Capacity);
        }

        [Fact]
        public void OpeningAMissingSegmentFailsWithNotFound()
        {
            using var name = new TestName();
            var error = Assert.Throws<SharedMemoryException>(() => SharedMemorySegment.Open(name));
            Assert.Equal(SharedMemoryErrorCode.NotFound, error.Code);
            Assert.Equal($"No shared memory segment named '{name.Value}' exists.", error.Message);
            Assert.False(SharedMemorySegment.TryOpen(name, out SharedMemorySegment? none));
            Assert.Null(none);
            Assert.False(SharedMemorySegment.Remove(name));
        }

        [Theory]
        [InlineData(SharedMemoryContentType.Text)]
        [InlineData(SharedMemoryContentType.Bytes)]
        [InlineData(SharedMemoryContentType.CliXml)]
        public void WhatIsWrittenIsReadBackWithItsTypeAndARisingSequence(SharedMemoryContentType type)
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 1024);
            Assert.Equal(SharedMemoryContentType.Empty, segment.ContentType);
            Assert.Equal(0, segment.Sequence);
            Assert.Empty(segment.Read().Data);

            byte[] payload = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
            Assert.Equal(1, segment.Write(payload, type));
            SharedMemoryContent content = segment.Read();
            Assert.Equal(payload, content.Data);
            Assert.Equal(type, content.ContentType);
            Assert.Equal(1, content.Sequence);
            Assert.Equal(Environment.ProcessId, segment.LastWriterProcessId);
            Assert.Equal(Environment.ProcessId, segment.CreatorProcessId);
            Assert.True(segment.LastWriteTimeUtc >= segment.CreationTimeUtc);
            Assert.Equal(2, segment.Write(new byte[] { 1 }, type));
        }

        [Fact]
        public void TextIsStoredAsUtf8WithoutAByteOrderMark()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 64);
            segment.WriteText("héllo ✓");
            SharedMemoryContent content = segment.Read();
            Assert.Equal(Encoding.UTF8.GetBytes("héllo ✓"), content.Data);
            Assert.Equal(SharedMemoryContentType.Text, content.ContentType);
            Assert.Equal("héllo ✓", segment.ReadText(out SharedMemoryContentType type, out long sequence));
            Assert.Equal(SharedMemoryContentType.Text, type);
            Assert.Equal(1, sequence);
        }

        [Fact]
        public void TextThatFillsTheCapacityExactlyFits()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 6);
            segment.WriteText("✓✓");
            Assert.Equal("✓✓", segment.Read().GetText());
            Assert.Equal(SharedMemoryErrorCode.PayloadTooLarge, Assert.Throws<SharedMemoryException>(() => segment.WriteText("✓✓a")).Code);
        }

        [Fact]
        public void APayloadTooLargeFailsAndLeavesTheStoredPayloadIntact()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 1_048_576);
            segment.WriteText("precious");
            var error = Assert.Throws<SharedMemoryException>(() => segment.Write(new byte[2_097_152], SharedMemoryContentType.Bytes));
            Assert.Equal(SharedMemoryErrorCode.PayloadTooLarge, error.Code);
            Assert.Equal("A payload of 2,097,152 bytes does not fit segment '" + name + "' of size 1,048,576 bytes.", error.Message);
            Assert.Equal(SharedMemoryErrorCode.PayloadTooLarge, Assert.Throws<SharedMemoryException>(() => segment.WriteText(new string('x', 1_048_577))).Code);
            SharedMemoryContent content = segment.Read();
            Assert.Equal("precious", content.GetText());
            Assert.Equal(1, content.Sequence);
        }

        [Fact(Skip = "Unix only: Unix store behaviour; Windows keeps segments in a per-user folder.", SkipType = typeof(Platform), SkipWhen = nameof(Platform.IsWindows))]
        [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
        public void TheFileAndItsDirectoryAreOnlyForTheOwner()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 16);
            string path = SegmentStore.For(SharedMemoryScope.User).PathOf(name);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
            if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable(SegmentStore.StoreEnvironmentVariable) is null)
            {
                Assert.StartsWith("/dev/shm/pssm-", path);
            }
        }

        [Fact(Skip = "Unix only: Unix store behaviour; Windows keeps segments in a per-user folder.", SkipType = typeof(Platform), SkipWhen = nameof(Platform.IsWindows))]
        [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
        public void TheGlobalScopeUsesTheRequestedPermissions()
        {
            using var name = new TestName();
            try
            {
                using SharedMemorySegment segment = SharedMemorySegment.Create(name, 16, new SharedMemoryOptions { Scope = SharedMemoryScope.Global, Permissions = 0x1B6 /* 0666 */ });
                segment.WriteText("for everyone");
                string path = SegmentStore.For(SharedMemoryScope.Global).PathOf(name);
                Assert.Equal((UnixFileMode)0x1B6, File.GetUnixFileMode(path));
                Assert.False(SharedMemorySegment.Exists(name), "a global segment is not in the user scope");
                using SharedMemorySegment opened = SharedMemorySegment.Open(name, SharedMemoryScope.Global);
                Assert.Equal("for everyone", opened.Read().GetText());
                Assert.Contains(SharedMemorySegment.List("*", SharedMemoryScope.Global), s => s.Name == name.Value && s.Scope == SharedMemoryScope.Global);
            }
            finally
            {
                SharedMemorySegment.Remove(name, SharedMemoryScope.Global);
            }
        }

        [Fact]
        public void ListFiltersByWildcardSkipsForeignFilesAndShowsDamagedOnes()
        {
            string prefix = "list-" + Guid.NewGuid().ToString("N").Substring(0, 8);
            using var a = new RemoveOnDispose(prefix + "-a");
            using var b = new RemoveOnDispose(prefix + "-b");
            using var other = new RemoveOnDispose(prefix + "x");
            SharedMemorySegment.Create(a.Name, 10).Dispose();
            using (SharedMemorySegment segment = SharedMemorySegment.Create(b.Name, 20))
            {
                segment.WriteText("bee");
            }

            SharedMemorySegment.Create(other.Name, 30).Dispose();
            string directory = SegmentStore.For(SharedMemoryScope.User).Directory;
            string foreign = Path.Combine(directory, prefix + "-junk.pssm");
            string notes = Path.Combine(directory, prefix + "-notes.txt");
            File.WriteAllText(foreign, "not a segment");
            File.WriteAllText(notes, "not a segment either");
            try
            {
                var listed = SharedMemorySegment.List(prefix + "-*");

                // The .txt file is not named like a segment; the junk one is, so it is listed as damaged.
                Assert.Equal(new[] { a.Name, b.Name, prefix + "-junk" }, listed.Select(s => s.Name).ToArray());
                Assert.Equal(new[] { SharedMemorySegmentStatus.Ok, SharedMemorySegmentStatus.Ok, SharedMemorySegmentStatus.Damaged }, listed.Select(s => s.Status).ToArray());
                Assert.Contains("shorter than the 128-byte header", listed[2].Problem);
                Assert.Null(listed[0].Problem);
                SharedMemorySegmentInfo info = listed[1];
                Assert.Equal(20, info.Capacity);
                Assert.Equal(3, info.Length);
                Assert.Equal(SharedMemoryContentType.Text, info.ContentType);
                Assert.Equal(1, info.Sequence);
                Assert.Equal(Environment.ProcessId, info.LastWriterProcessId);
                Assert.Equal(new[] { a.Name }, SharedMemorySegment.List(prefix + "-[a]").Select(s => s.Name).ToArray());
                Assert.Equal(new[] { other.Name }, SharedMemorySegment.List(prefix + "?").Select(s => s.Name).ToArray());
            }
            finally
            {
                File.Delete(foreign);
                File.Delete(notes);
            }
        }

        [Fact]
        public void TwoHandlesInOneProcessExcludeEachOther()
        {
            using var name = new TestName();
            using SharedMemorySegment first = SharedMemorySegment.Create(name, 16);
            using SharedMemorySegment second = SharedMemorySegment.Open(name);
            using (first.Lock(TimeSpan.FromSeconds(5)))
            {
                var error = Assert.Throws<SharedMemoryException>(() => second.Lock(TimeSpan.FromMilliseconds(100)));
                Assert.Equal(SharedMemoryErrorCode.LockTimeout, error.Code);
                Assert.Equal(SharedMemoryErrorCode.LockTimeout, Assert.Throws<SharedMemoryException>(
                    () => second.Write(new byte[1], 0, 1, SharedMemoryContentType.Bytes, TimeSpan.FromMilliseconds(100), CancellationToken.None)).Code);
            }

            using (second.Lock(TimeSpan.FromSeconds(5)))
            {
                Assert.True(second.IsLockHeld);
                Assert.False(first.IsLockHeld);
            }
        }

        [Fact]
        public void TheLockIsReentrantSoAWriteWhileHoldingItDoesNotDeadlock()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 16);
            using (segment.Lock(TimeSpan.FromSeconds(5)))
            using (segment.Lock(TimeSpan.FromSeconds(5)))
            {
                segment.WriteText("inside");
                Assert.Equal("inside", segment.Read().GetText());
            }

            Assert.False(segment.IsLockHeld);
        }

        [Fact]
        public void TheLockCanBeReleasedOnAnotherThread()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 16);
            using SharedMemorySegment other = SharedMemorySegment.Open(name);
            Task.Run(() => segment.Lock(TimeSpan.FromSeconds(5))).Wait();
            Assert.True(segment.IsLockHeld);
            var thread = new Thread(() => segment.Unlock());
            thread.Start();
            thread.Join();
            Assert.False(segment.IsLockHeld);
            using (other.Lock(TimeSpan.FromSeconds(5)))
            {
                Assert.True(other.IsLockHeld);
            }
        }

        [Fact]
        public void UnlockingALockThatIsNotHeldFails()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 16);
            Assert.Equal(SharedMemoryErrorCode.NotLocked, Assert.Throws<SharedMemoryException>(() => segment.Unlock()).Code);
        }

        [Fact]
        public void ALockWaitEndsWhenCancelled()
        {
            using var name = new TestName();
            using SharedMemorySegment holder = SharedMemorySegment.Create(name, 16);
            using SharedMemorySegment waiter = SharedMemorySegment.Open(name);
            using var probe = new HeaderProbe(name);
            using (holder.Lock(TimeSpan.FromSeconds(60)))
            {
                // The lock wait sleeps in 50 ms slices; only the cancel-wake ends it sooner than the slice.
                double median = MedianCancelLatency(
                    token => waiter.Lock(Timeout.InfiniteTimeSpan, token), () => probe.LockWaiters, settleMilliseconds: 5, trials: 9);
                Assert.True(median < 25, $"a cancelled lock wait took a median {median:0.0} ms to end, as if nothing woke it before its 50 ms slice ended");
            }

            Assert.False(waiter.IsLockHeld);
            Assert.Equal(0, probe.LockWaiters);
        }

        [Fact]
        public void AChangeWaitEndsWhenCancelledOrTimedOut()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 16);
            using var probe = new HeaderProbe(name);
            var timeout = Assert.Throws<SharedMemoryException>(() => segment.WaitForChange(0, TimeSpan.FromMilliseconds(100), CancellationToken.None));
            Assert.Equal(SharedMemoryErrorCode.WaitTimeout, timeout.Code);

            // The change wait sleeps in 200 ms slices; only the cancel-wake ends it sooner than the slice.
            double median = MedianCancelLatency(
                token => segment.WaitForChange(0, Timeout.InfiniteTimeSpan, token), () => probe.ChangeWaiters, settleMilliseconds: 20, trials: 5);
            Assert.True(median < 100, $"a cancelled change wait took a median {median:0.0} ms to end, as if nothing woke it before its 200 ms slice ended");
            Assert.Equal(0, probe.ChangeWaiters);
        }

        /// <summary>
        /// Runs <paramref name="wait"/> on a thread of its own several times and returns the median time, in
        /// milliseconds, from cancelling it to the wait ending with <see cref="OperationCanceledException"/>.
        /// The waiter count in the header is the handshake: it goes up just before the waiter sleeps, so the
        /// cancel always finds a wait that has begun. The settle time is not for ordering; it only moves the
        /// cancel from the few instructions before the sleep into the sleep itself, early in its first slice.
        /// </summary>
        private static double MedianCancelLatency(Action<CancellationToken> wait, Func<int> waiters, int settleMilliseconds, int trials)
        {
            var latencies = new double[trials];
            for (int trial = 0; trial < trials; trial++)
            {
                using var cancel = new CancellationTokenSource();
                Exception? error = null;
                long ended = 0;
                var thread = new Thread(() =>
                {
                    try
                    {
                        wait(cancel.Token);
                    }
                    catch (Exception e)
                    {
                        error = e;
                    }

                    ended = Stopwatch.GetTimestamp();
                }) { IsBackground = true };
                thread.Start();
                HeaderProbe.SpinUntil(() => waiters() == 1 || !thread.IsAlive, "the waiter is counted in the header");
                Assert.True(thread.IsAlive, $"the wait ended before it was cancelled: {error}");
                Thread.Sleep(settleMilliseconds);
                long cancelled = Stopwatch.GetTimestamp();
                cancel.Cancel();
                Assert.True(thread.Join(TimeSpan.FromSeconds(60)), "the cancelled wait did not end within 60 seconds");
                var canceled = Assert.IsAssignableFrom<OperationCanceledException>(error);
                Assert.Equal(cancel.Token, canceled.CancellationToken);
                latencies[trial] = Stopwatch.GetElapsedTime(cancelled, ended).TotalMilliseconds;
            }

            TestContext.Current.TestOutputHelper?.WriteLine("cancel-to-end, ms: " + string.Join(", ", latencies.Select(l => l.ToString("0.0"))));
            Array.Sort(latencies);
            return latencies[trials / 2];
        }

        [Fact]
        public void AWaitForAnAlreadyDifferentSequenceReturnsAtOnce()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 16);
            segment.WriteText("x");
            Assert.Equal(1, segment.WaitForChange(0, TimeSpan.Zero, CancellationToken.None));
        }

        [Fact]
        public void RemovingWakesAWaiterWithRemoved()
        {
            using var name = new TestName();
            using SharedMemorySegment segment = SharedMemorySegment.Create(name, 16);
            Task<long> wait = Task.Run(() => segment.WaitForChange(0, TimeSpan.FromSeconds(60), CancellationToken.None));
            using (var probe = new HeaderProbe(name))
            {
                HeaderProbe.SpinUntil(() => probe.ChangeWaiters == 1 || wait.IsCompleted, "the waiter is counted in the header");
            }

            Assert.False(wait.IsCompleted);
            SharedMemorySegment.Remove(name);
            var error = Assert.Throws<SharedMemoryException>(() => wait.GetAwaiter().GetResult());
            Assert.Equal(SharedMemoryErrorCode.Removed, error.Code);
            Assert.Equal(SharedMemoryErrorCode.Removed, Assert.Throws<SharedMemoryException>(() => segment.Read()).Code);
            Assert.Equal(SharedMemoryErrorCode.Removed, Assert.Throws<SharedMemoryException>(() => segment.WriteText("x")).Code);
            Assert.Equal(SharedMemoryErrorCode.Removed, Assert.Throws<SharedMemoryException>(() => segment.Lock(TimeSpan.Zero)).Code);
        }

        [Fact]
        public void DisposeReleasesAHeldLock()
        {
            using var name = new TestName();
            SharedMemorySegment holder = SharedMemorySegment.Create(name, 16);
            holder.Lock(TimeSpan.FromSeconds(5));
            holder.Dispose();
            using SharedMemorySegment other = SharedMemorySegment.Open(name);
            using (other.Lock(TimeSpan.FromSeconds(5)))
            {
                Assert.True(other.IsLockHeld);
            }

            Assert.Throws<ObjectDisposedException>(() => holder.Read());
        }

        [Fact]
        public void DisposingWhileOtherThreadsUseTheHandleEndsThemCleanly()
        {
            using var name = new TestName();
            SharedMemorySegment segment = SharedMemorySegment.Create(name, 1 << 20);
            segment.Write(new byte[1 << 20], SharedMemoryContentType.Bytes);
            Task<long> waiter = Task.Run(() => segment.WaitForChange(segment.Sequence, TimeSpan.FromSeconds(60), CancellationToken.None));
            using var reading = new ManualResetEventSlim();
            Task reader = Task.Run(() =>
            {
                try
                {
                    while (true)
                    {
                        segment.Read();
                        _ = segment.Length;
                        reading.Set();
                    }
                }
                catch (ObjectDisposedException)
                {
                }
            });
            using (var probe = new HeaderProbe(name))
            {
                HeaderProbe.SpinUntil(() => probe.ChangeWaiters == 1 || waiter.IsCompleted, "the waiter is counted in the header");
            }

            Assert.True(reading.Wait(TimeSpan.FromSeconds(60)), "the reader never read");
            Assert.False(waiter.IsCompleted);
            segment.Dispose();
            Assert.ThrowsAny<ObjectDisposedException>(() => waiter.GetAwaiter().GetResult());
            Assert.True(reader.Wait(TimeSpan.FromSeconds(60)));
        }

        [Fact(Skip = "Unix only: Unix store behaviour; Windows keeps segments in a per-user folder.", SkipType = typeof(Platform), SkipWhen = nameof(Platform.IsWindows))]
        public void AStoreWhoseParentIsMissingSaysSo()
        {
            string? previous = Environment.GetEnvironmentVariable(SegmentStore.StoreEnvironmentVariable);
            string missing = Path.Combine(Path.GetTempPath(), "pssm-missing-" + Guid.NewGuid().ToString("N"));
            try
            {
                Environment.SetEnvironmentVariable(SegmentStore.StoreEnvironmentVariable, missing);
                var error = Assert.Throws<SharedMemoryException>(() => SharedMemorySegment.Create("anything", 16));
                Assert.NotEqual(SharedMemoryErrorCode.NotFound, error.Code);
                Assert.Contains(missing, error.Message);
                Assert.Contains(SegmentStore.StoreEnvironmentVariable, error.Message);
                Assert.Equal("mkdir", error.NativeFunction);
            }
            finally
            {
                Environment.SetEnvironmentVariable(SegmentStore.StoreEnvironmentVariable, previous);
            }
        }

        [Fact(Skip = "Unix only: posix_fallocate on tmpfs is Linux only; macOS and Windows size files without reserving them.", SkipType = typeof(Platform), SkipUnless = nameof(Platform.IsLinux))]
        public void AFullStoreGivesOutOfSpaceAtCreate()
        {
            string? mountPoint = SmallTmpfs.TryMount(1024 * 1024);
            string? previous = Environment.GetEnvironmentVariable(SegmentStore.StoreEnvironmentVariable);
            try
            {
                long request;
                if (mountPoint is not null)
                {
                    Environment.SetEnvironmentVariable(SegmentStore.StoreEnvironmentVariable, mountPoint);
                    using SharedMemorySegment filler = SharedMemorySegment.Create("filler", 700 * 1024);
                    request = 700 * 1024;
                }
                else
                {
                    // No permission to mount: ask /dev/shm for more than it can ever hold.
                    request = SharedMemorySegment.MaxCapacity;
                }

                var error = Assert.Throws<SharedMemoryException>(() => SharedMemorySegment.Create("does-not-fit", request));
                Assert.Equal(SharedMemoryErrorCode.OutOfSpace, error.Code);
                Assert.Equal("posix_fallocate", error.NativeFunction);
                Assert.Contains("no room", error.Message);
                Assert.False(SharedMemorySegment.Exists("does-not-fit"));
                Assert.Empty(Directory.GetFiles(SegmentStore.For(SharedMemoryScope.User).Directory, ".*"));
            }
            finally
            {
                Environment.SetEnvironmentVariable(SegmentStore.StoreEnvironmentVariable, previous);
                if (mountPoint is not null)
                {
                    SmallTmpfs.Unmount(mountPoint);
                }
            }
        }

        [Theory]
        [InlineData("con")]
        [InlineData("nul")]
        [InlineData("aux")]
        [InlineData("prn")]
        [InlineData("com1")]
        [InlineData("lpt1")]
        [InlineData("con.log")]
        [InlineData("nul.txt")]
        public void DeviceNamesAreOrdinarySegments(string prefix)
        {
            // A valid name works on every OS; on Windows these would otherwise open a device, not a file.
            string name = prefix;
            SharedMemorySegment.Remove(name);
            try
            {
                using (SharedMemorySegment segment = SharedMemorySegment.Create(name, 64))
                {
                    segment.WriteText("kept in a file");
                }

                Assert.True(File.Exists(SegmentStore.For(SharedMemoryScope.User).PathOf(name)));
                using (SharedMemorySegment opened = SharedMemorySegment.Open(name))
                {
                    Assert.Equal("kept in a file", opened.Read().GetText());
                }

                Assert.Contains(SharedMemorySegment.List(name), s => s.Name == name);
            }
            finally
            {
                SharedMemorySegment.Remove(name);
            }

            Assert.False(SharedMemorySegment.Exists(name));
        }

        [Fact]
        public void ALongNameOfCapitalsIsAnOrdinarySegment()
        {
            // 128 characters, almost all capitals: spelled with '^' it would pass the 255-character file name limit.
            // 127 capitals: 255 characters with '^', 260 with the extension.
            string unique = new string(Guid.NewGuid().ToString("N").Substring(0, 12).Select(c => (char)('A' + Convert.ToInt32(c.ToString(), 16))).ToArray());
            string name = new string('Q', 100) + unique + "-" + new string('W', 15);
            Assert.Equal(SegmentName.MaxLength, name.Length);
            string lower = name.ToLowerInvariant();
            try
            {
                using (SharedMemorySegment segment = SharedMemorySegment.Create(name, 64))
                {
                    segment.WriteText("capitals");
                }

                using (SharedMemorySegment other = SharedMemorySegment.Create(lower, 64))
                {
                    other.WriteText("lower case");
                }

                using (SharedMemorySegment opened = SharedMemorySegment.Open(name))
                {
                    Assert.Equal("capitals", opened.Read().GetText());
                }

                using (SharedMemorySegment opened = SharedMemorySegment.Open(lower))
                {
                    Assert.Equal("lower case", opened.Read().GetText());
                }

                Assert.Equal(new[] { lower, name }.OrderBy(n => n, StringComparer.Ordinal), SharedMemorySegment.List("*").Select(s => s.Name).Where(n => n == name || n == lower).OrderBy(n => n, StringComparer.Ordinal));
                Assert.True(SharedMemorySegment.Remove(name));
                Assert.False(SharedMemorySegment.Exists(name));
                Assert.True(SharedMemorySegment.Exists(lower));
            }
            finally
            {
                SharedMemorySegment.Remove(name);
                SharedMemorySegment.Remove(lower);
            }
        }

        private sealed class RemoveOnDispose : IDisposable
        {
            public RemoveOnDispose(string name) => Name = name;

            public string Name { get; }

            public void Dispose() => SharedMemorySegment.Remove(Name);
        }
    }
}
