using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Xunit;

namespace PSSharedMemory.Engine.Tests
{
    /// <summary>
    /// Attacks and accidents outside the happy path: an untrusted store, files cut, made sparse, deleted or
    /// replaced underneath, read-only sharing, and leftovers of killed creates. Each asserts the safe outcome.
    /// </summary>
    public sealed class HardeningTests
    {
        private const string NeedsLinuxRoot = "Unix only: the test needs Linux (and for some, root) to play the attacker with symbolic links, file owners and modes, a tmpfs or another user.";
        private readonly ITestOutputHelper _output;

        public HardeningTests(ITestOutputHelper output) => _output = output;

        [Fact(Skip = NeedsLinuxRoot, SkipType = typeof(Platform), SkipUnless = nameof(Platform.IsLinux))]
        public void AUserStoreThatIsASymbolicLinkIsNeverFollowed()
        {
            using var store = new TempStore();
            string attacker = Path.Combine(store.Root, "attacker");
            using (SharedMemorySegment planted = SharedMemorySegment.Create("victim", 64))
            {
                planted.WriteText("attacker's data");
            }

            // The attacker's directory, full of segments, put where the user's store should be.
            Directory.Move(store.UserStore, attacker);
            File.CreateSymbolicLink(store.UserStore, attacker);

            AssertCode(SharedMemoryErrorCode.SymbolicLink, () => SharedMemorySegment.Open("victim"));
            AssertCode(SharedMemoryErrorCode.SymbolicLink, () => SharedMemorySegment.Create("secret", 64).Dispose());
            AssertCode(SharedMemoryErrorCode.SymbolicLink, () => SharedMemorySegment.List());
            AssertCode(SharedMemoryErrorCode.SymbolicLink, () => SharedMemorySegment.Exists("victim"));
            var error = AssertCode(SharedMemoryErrorCode.SymbolicLink, () => SharedMemorySegment.Remove("victim"));
            Assert.Contains("symbolic link", error.Message);

            Assert.Equal(new[] { "victim.pssm" }, Directory.GetFiles(attacker).Select(Path.GetFileName).ToArray());
        }

        [Fact(Skip = NeedsLinuxRoot, SkipType = typeof(Platform), SkipUnless = nameof(Platform.IsLinux))]
        public void AUserStoreOthersMayEnterIsRefusedUntilItIsPrivateAgain()
        {
            using var store = new TempStore();
            SharedMemorySegment.Create("mine", 64).Dispose();
            Posix.Chmod(store.UserStore, 0x1ED /* 0755 */);

            var error = AssertCode(SharedMemoryErrorCode.UnsafePermissions, () => SharedMemorySegment.Open("mine"));
            Assert.Contains("0755", error.Message);
            AssertCode(SharedMemoryErrorCode.UnsafePermissions, () => SharedMemorySegment.List());
            AssertCode(SharedMemoryErrorCode.UnsafePermissions, () => SharedMemorySegment.Remove("mine"));

            Posix.Chmod(store.UserStore, 0x1C0 /* 0700 */);
            SharedMemorySegment.Open("mine").Dispose();
        }

        [Fact(Skip = NeedsLinuxRoot, SkipType = typeof(Platform), SkipUnless = nameof(Platform.IsLinuxRoot))]
        public void AUserStoreOwnedByAnotherUserIsRefused()
        {
            using var store = new TempStore();
            SharedMemorySegment.Create("mine", 64).Dispose();
            Posix.Chown(store.UserStore, 65534);

            AssertCode(SharedMemoryErrorCode.WrongOwner, () => SharedMemorySegment.Open("mine"));
            AssertCode(SharedMemoryErrorCode.WrongOwner, () => SharedMemorySegment.Create("other", 64).Dispose());
            Assert.False(File.Exists(Path.Combine(store.UserStore, "other.pssm")));
        }

        [Fact(Skip = NeedsLinuxRoot, SkipType = typeof(Platform), SkipUnless = nameof(Platform.IsLinuxRoot))]
        public void AGlobalStoreOwnedByAnotherOrdinaryUserIsRefusedWithAdviceForTheAdministrator()
        {
            using var store = new TempStore();
            Directory.CreateDirectory(store.GlobalStore);
            Posix.Chmod(store.GlobalStore, 0x3FF /* 01777 */);
            Posix.Chown(store.GlobalStore, 65534);

            var global = new SharedMemoryOptions { Scope = SharedMemoryScope.Global };
            var error = AssertCode(SharedMemoryErrorCode.WrongOwner, () => SharedMemorySegment.Create("shared", 64, global).Dispose());
            Assert.Contains("install -d -m 1777 -o root", error.Message);
            AssertCode(SharedMemoryErrorCode.WrongOwner, () => SharedMemorySegment.Open("shared", SharedMemoryScope.Global));
            Assert.Empty(Directory.GetFiles(store.GlobalStore));

            Posix.Chown(store.GlobalStore, 0);
            SharedMemorySegment.Create("shared", 64, global).Dispose();
        }

        [Fact(Skip = NeedsLinuxRoot, SkipType = typeof(Platform), SkipUnless = nameof(Platform.IsLinuxRoot))]
        public void AGlobalStoreOthersMayWriteButThatIsNotStickyIsRefused()
        {
            using var store = new TempStore();
            Directory.CreateDirectory(store.GlobalStore);
            Posix.Chmod(store.GlobalStore, 0x1FF /* 0777 */);

            var global = new SharedMemoryOptions { Scope = SharedMemoryScope.Global };
            AssertCode(SharedMemoryErrorCode.UnsafePermissions, () => SharedMemorySegment.Create("shared", 64, global).Dispose());

            Posix.Chmod(store.GlobalStore, 0x3FF /* 01777 */);
            SharedMemorySegment.Create("shared", 64, global).Dispose();
        }

        [Fact(Skip = NeedsLinuxRoot, SkipType = typeof(Platform), SkipUnless = nameof(Platform.IsLinux))]
        public void ASegmentFileThatIsASymbolicLinkIsNotFollowedIsListedAsDamagedAndCanBeRemoved()
        {
            using var store = new TempStore();
            using (SharedMemorySegment target = SharedMemorySegment.Create("target", 64))
            {
                target.WriteText("target's");
            }

            File.CreateSymbolicLink(Path.Combine(store.UserStore, "link.pssm"), Path.Combine(store.UserStore, "target.pssm"));

            var error = AssertCode(SharedMemoryErrorCode.SymbolicLink, () => SharedMemorySegment.Open("link"));
            Assert.Contains("symbolic link", error.Message);
            SharedMemorySegmentInfo listed = Assert.Single(SharedMemorySegment.List("link"));
            Assert.Equal(SharedMemorySegmentStatus.Damaged, listed.Status);
            Assert.Contains("symbolic link", listed.Problem);

            Assert.True(SharedMemorySegment.Exists("link"));
            Assert.True(SharedMemorySegment.Remove("link"));
            Assert.False(File.Exists(Path.Combine(store.UserStore, "link.pssm")));
            using SharedMemorySegment kept = SharedMemorySegment.Open("target");
            Assert.Equal("target's", kept.Read().GetText());
        }

        [Fact(Skip = NeedsLinuxRoot, SkipType = typeof(Platform), SkipUnless = nameof(Platform.IsLinux))]
        public void AFifoWithASegmentNameIsReportedAtOnceAndCanBeRemoved()
        {
            using var store = new TempStore();
            SharedMemorySegment.Create("real", 64).Dispose();
            Posix.MakeFifo(Path.Combine(store.UserStore, "pipe.pssm"));

            Task<SharedMemoryException> open = Task.Run(() => Assert.Throws<SharedMemoryException>(() => SharedMemorySegment.Open("pipe")));
            Assert.True(open.Wait(TimeSpan.FromSeconds(30)), "opening a FIFO must not block");
            Assert.Equal(SharedMemoryErrorCode.WrongFileType, open.Result.Code);
            Assert.Equal(SharedMemorySegmentStatus.Damaged, Assert.Single(SharedMemorySegment.List("pipe")).Status);
            Assert.True(SharedMemorySegment.Remove("pipe"));
        }

        [Fact(Skip = NeedsLinuxRoot, SkipType = typeof(Platform), SkipUnless = nameof(Platform.IsLinux))]
        public void LeftoversOfAKilledCreateAreRemovedByTheNextCreateOnlyWhenOldAndTheirProcessIsGone()
        {
            using var store = new TempStore();
            Directory.CreateDirectory(store.UserStore);
            Posix.Chmod(store.UserStore, 0x1C0);

            int gone;
            using (Process exited = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!)
            {
                exited.WaitForExit();
                gone = exited.Id;
            }

            string Leftover(string name, int pid, TimeSpan age)
            {
                string path = Path.Combine(store.UserStore, $".{name}.{pid}.{Guid.NewGuid():N}.creating");
                File.WriteAllBytes(path, new byte[4096]);
                File.SetLastWriteTimeUtc(path, DateTime.UtcNow - age);
                return path;
            }

            string abandoned = Leftover("a", gone, TimeSpan.FromMinutes(5));
            string young = Leftover("b", gone, TimeSpan.Zero);
            string stillCreating = Leftover("c", Environment.ProcessId, TimeSpan.FromMinutes(5));

            SharedMemorySegment.Create("next", 64).Dispose();

            Assert.False(File.Exists(abandoned), "an old leftover of a dead process is removed");
            Assert.True(File.Exists(young), "a leftover younger than a minute may still be in use");
            Assert.True(File.Exists(stillCreating), "a leftover whose process lives may still be in use");
        }

        [Fact(Skip = "Unix only: Windows refuses to shorten a file while it is mapped, so no one can cut a segment under a reader there.", SkipType = typeof(Platform), SkipWhen = nameof(Platform.IsWindows))]
        public void TheLookOfARevalidationSparesTheCheckOfOnlyTheNextAccessOfThatHandleOnThatThread()
        {
            // IsOrphaned sees from the name's lstat that the file backs the mapping, so the next access of
            // that handle on that thread skips its fstat. Any other access must still check: here the file
            // is cut to 8 KiB under a 64 KiB mapping, short enough to be reported, long enough that a read
            // of the small payload would not fault if a check were wrongly skipped.
            using var name = new TestName("vouch");
            using (SharedMemorySegment created = SharedMemorySegment.Create(name, 64 * 1024))
            {
                created.WriteText("small");
            }

            string path = SegmentStore.For(SharedMemoryScope.User).PathOf(name);
            long length = new FileInfo(path).Length;
            using SharedMemorySegment vouched = SharedMemorySegment.Open(name);
            using SharedMemorySegment other = SharedMemorySegment.Open(name);
            void Cut(long to)
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
                stream.SetLength(to);
            }

            // A vouch lasts a millisecond; this test is about whose access it spares, so it lasts a minute here.
            long window = SegmentView.s_vouchTicks;
            SegmentView.s_vouchTicks = Stopwatch.Frequency * 60;
            try
            {
                // Spent by one access: the next one checks.
                Assert.False(vouched.IsOrphaned());
                Assert.Equal("small", vouched.ReadText(out _, out _));
                Cut(8192);
                AssertCode(SharedMemoryErrorCode.Corrupted, () => vouched.ReadText(out _, out _));

                // Another handle on the same thread: checks, and its access drops the vouch.
                Cut(length);
                Assert.False(vouched.IsOrphaned());
                Cut(8192);
                AssertCode(SharedMemoryErrorCode.Corrupted, () => other.ReadText(out _, out _));
                AssertCode(SharedMemoryErrorCode.Corrupted, () => vouched.ReadText(out _, out _));

                // The same handle on another thread: checks.
                Cut(length);
                Assert.False(vouched.IsOrphaned());
                Cut(8192);
                Exception? onAnotherThread = null;
                var thread = new System.Threading.Thread(() => onAnotherThread = Record.Exception(() => vouched.ReadText(out _, out _)));
                thread.Start();
                thread.Join();
                Assert.Equal(SharedMemoryErrorCode.Corrupted, Assert.IsType<SharedMemoryException>(onAnotherThread).Code);

                // Past its time: checks.
                Cut(length);
                SegmentView.s_vouchTicks = -1;
                Assert.False(vouched.IsOrphaned());
                Cut(8192);
                AssertCode(SharedMemoryErrorCode.Corrupted, () => vouched.ReadText(out _, out _));
            }
            finally
            {
                SegmentView.s_vouchTicks = window;
            }
        }

        [Fact(Skip = "Unix only: Windows refuses to shorten a file while it is mapped, so no one can cut a segment under a reader there.", SkipType = typeof(Platform), SkipWhen = nameof(Platform.IsWindows))]
        public void AFileTruncatedUnderAReader100TimesNeverCrashesIt()
        {
            using var name = new TestName("cut");
            const int Capacity = 64 * 1024;
            string payload = new string('p', 40_000);
            using (SharedMemorySegment created = SharedMemorySegment.Create(name, Capacity))
            {
                created.WriteText(payload);
            }

            string path = SegmentStore.For(SharedMemoryScope.User).PathOf(name);
            byte[] original = File.ReadAllBytes(path);
            using ChildProcess reader = ChildProcess.Start("session", name);
            Assert.Equal("open read-write", reader.WaitForLine("open"));

            const int Seed = 20261127;
            var random = new Random(Seed);
            _output.WriteLine($"seed {Seed}");
            long[] lengths = { 0, 1, 64, 127, 128, 129, 4096, 4097, original.Length / 2, original.Length - 1 };
            string[] commands = { "read", "write after", "info", "lock", "list " + name.Value, "orphaned" };
            for (int round = 0; round < 100; round++)
            {
                long length = lengths[random.Next(lengths.Length)];
                string command = commands[round % commands.Length];
                using (var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
                {
                    stream.SetLength(length);
                }

                reader.SendLine(command);
                bool listing = command.StartsWith("list", StringComparison.Ordinal);
                string answer = reader.WaitForLine(listing ? "list" : "error");
                Assert.False(reader.HasExited, $"round {round}: the reader died after '{command}' on a file cut to {length} bytes");
                Assert.Equal(listing ? $"list {name.Value}:Damaged:rw" : "error Corrupted", answer);

                // Put the file back as it was: the reader's mapping sees the same bytes again.
                using (var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
                {
                    stream.Write(original, 0, original.Length);
                }

                reader.SendLine("read");
                Assert.Equal("read " + payload, reader.WaitForLine("read"));
            }

            reader.CloseInput();
            Assert.Equal(0, reader.WaitForExit());
        }

        [Fact(Skip = NeedsLinuxRoot, SkipType = typeof(Platform), SkipUnless = nameof(Platform.IsLinuxRoot))]
        public void ASparseFileOnAFullStoreIsAnErrorForEveryReaderNotACrash()
        {
            string? mount = SmallTmpfs.TryMount(2 << 20);
            Assert.SkipWhen(mount is null, "This user may not mount a tmpfs.");
            try
            {
                using var store = new TempStore(Path.Combine(mount!, "root"));
                const int Capacity = 512 * 1024;
                string payload = new string('s', 400_000);
                using (SharedMemorySegment created = SharedMemorySegment.Create("sparse", Capacity))
                {
                    created.WriteText(payload);
                }

                using ChildProcess reader = ChildProcess.Start("session", "sparse");
                Assert.Equal("open read-write", reader.WaitForLine("open"));

                // Free the payload's pages, then fill the store so they cannot come back.
                string path = Path.Combine(store.UserStore, "sparse.pssm");
                Posix.PunchHole(path, 4096, Capacity);
                string filler = Path.Combine(mount!, "filler");
                FillUntilFull(filler);

                reader.SendLine("read");
                Assert.Equal("error OutOfSpace", reader.WaitForLine("error"));
                Assert.False(reader.HasExited);
                Assert.Equal("error OutOfSpace", ChildProcess.Run("read", "sparse")[0]);

                // With room again, the same handle allocates the pages and reads (zeros where the hole was).
                File.Delete(filler);
                reader.SendLine("info");
                Assert.StartsWith("info 400000 ", reader.WaitForLine("info"));
                reader.CloseInput();
                Assert.Equal(0, reader.WaitForExit());
            }
            finally
            {
                SmallTmpfs.Unmount(mount!);
            }
        }

        [Fact(Skip = "Unix only: compares device and inode numbers, which only the Unix store has; a Windows segment file stays open with FILE_SHARE_DELETE semantics instead.", SkipType = typeof(Platform), SkipWhen = nameof(Platform.IsWindows))]
        public void AHandleKnowsWhenItsFileWasDeletedOrReplacedUnderneath()
        {
            using var name = new TestName("orphan");
            string path = SegmentStore.For(SharedMemoryScope.User).PathOf(name);
            using SharedMemorySegment first = SharedMemorySegment.Create(name, 64);
            Assert.False(first.IsOrphaned());

            File.Delete(path);
            Assert.True(first.IsOrphaned());

            using SharedMemorySegment second = SharedMemorySegment.Create(name, 64);
            Assert.True(first.IsOrphaned());
            Assert.False(second.IsOrphaned());

            // Replaced by a rename, as an editor or a copy tool would.
            using var other = new TestName("orphan");
            SharedMemorySegment.Create(other, 64).Dispose();
            File.Move(SegmentStore.For(SharedMemoryScope.User).PathOf(other), path, overwrite: true);
            Assert.True(second.IsOrphaned());
            using SharedMemorySegment third = SharedMemorySegment.Open(name);
            Assert.False(third.IsOrphaned());
        }

        [Fact(Skip = "Unix only: needs root and setpriv on Linux to run a process as another user.", SkipType = typeof(Platform), SkipUnless = nameof(Platform.CanRunAsAnotherUser))]
        public void AUserWithReadPermissionOnlyReadsAndWaitsButCannotWriteLockOrRemove()
        {
            using var name = new TestName("shared");
            var global = new SharedMemoryOptions { Scope = SharedMemoryScope.Global, Permissions = 0x1A4 /* 0644 */ };
            try
            {
                using SharedMemorySegment segment = SharedMemorySegment.Create(name, 64, global);
                segment.WriteText("for everyone");

                using ChildProcess other = ChildProcess.StartAsNobody("session", name, "Global");
                Assert.Equal("open read-only", other.WaitForLine("open"));
                other.SendLine("read");
                Assert.Equal("read for everyone", other.WaitForLine("read"));
                foreach (string command in new[] { "write mine", "lock", "remove" })
                {
                    other.SendLine(command);
                    Assert.Equal("error ReadOnly", other.WaitForLine("error"));
                }

                other.SendLine("list " + name.Value);
                Assert.Equal($"list {name.Value}:Ok:ro", other.WaitForLine("list"));
                other.SendLine("info");
                Assert.Equal("info 12 1 True", other.WaitForLine("info"));

                other.SendLine("wait");
                other.WaitForLine("waiting");
                segment.WriteText("news");
                Assert.Equal("changed 2", other.WaitForLine("changed"));
                other.SendLine("read");
                Assert.Equal("read news", other.WaitForLine("read"));

                Assert.True(SharedMemorySegment.Exists(name, SharedMemoryScope.Global));
                other.CloseInput();
                Assert.Equal(0, other.WaitForExit());
            }
            finally
            {
                SharedMemorySegment.Remove(name, SharedMemoryScope.Global);
            }
        }

        private static SharedMemoryException AssertCode(SharedMemoryErrorCode code, Action action)
        {
            var error = Assert.Throws<SharedMemoryException>(action);
            Assert.True(code == error.Code, $"expected {code}, got {error.Code}: {error.Message}");
            return error;
        }

        private static void FillUntilFull(string path)
        {
            using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
            var block = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    stream.Write(block, 0, block.Length);
                    stream.Flush();
                }
            }
            catch (IOException)
            {
                // No space left: the store is full.
            }
        }
    }
}
