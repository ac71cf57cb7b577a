using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;

namespace PSSharedMemory.Engine.Tests
{
    /// <summary>
    /// Points PSSHAREDMEMORY_STORE at a fresh directory under /tmp for one test, and puts it back after.
    /// The directory is 0755 so a process running as another user can reach the stores inside it.
    /// </summary>
    internal sealed class TempStore : IDisposable
    {
        private readonly string? _previous;

        public TempStore(string? root = null)
        {
            _previous = Environment.GetEnvironmentVariable(SegmentStore.StoreEnvironmentVariable);
            Root = root ?? Path.Combine("/tmp", "pssm-store-" + Guid.NewGuid().ToString("N").Substring(0, 12));
            Directory.CreateDirectory(Root);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(Root, (UnixFileMode)0x1ED /* 0755 */);
            }

            Environment.SetEnvironmentVariable(SegmentStore.StoreEnvironmentVariable, Root);
        }

        public string Root { get; }

        public string UserStore => SegmentStore.For(SharedMemoryScope.User).Directory;

        public string GlobalStore => SegmentStore.For(SharedMemoryScope.Global).Directory;

        public void Dispose()
        {
            Environment.SetEnvironmentVariable(SegmentStore.StoreEnvironmentVariable, _previous);
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
                // A mount point or a busy file: leave it for the system's temp cleaner.
            }
        }
    }

    /// <summary>The few libc calls the hardening tests need to play the attacker.</summary>
    internal static class Posix
    {
        [DllImport("libc", SetLastError = true)]
        private static extern int chown(string path, int owner, int group);

        [DllImport("libc", SetLastError = true)]
        private static extern int mkfifo(string path, int mode);

        [DllImport("libc", SetLastError = true)]
        private static extern int fallocate(int fd, int mode, long offset, long length);

        [DllImport("libc")]
        private static extern int gettid();

        /// <summary>The calling thread's id in the kernel (Linux), as /proc/self/task names it.</summary>
        public static int ThreadId() => gettid();

        /// <summary>
        /// Linux: returns once thread <paramref name="threadId"/> of this process sleeps in poll(2) (or ppoll),
        /// as /proc/self/task/&lt;id&gt;/syscall shows; throws after a generous minute.
        /// </summary>
        public static void WaitUntilInPoll(int threadId)
        {
            // poll and ppoll on x64; arm64 has ppoll only.
            string[] calls = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? new[] { "73" } : new[] { "7", "271" };
            string path = $"/proc/self/task/{threadId}/syscall";
            DateTime deadline = DateTime.UtcNow.AddSeconds(60);
            while (Array.IndexOf(calls, File.ReadAllText(path).Split(' ')[0]) < 0)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"Thread {threadId} did not sleep in poll within 60 seconds.");
                }

                // The pace of the check, not an ordering: the loop ends on the condition.
                Thread.Sleep(1);
            }
        }

        public static void Chown(string path, int uid) => Check(chown(path, uid, uid), "chown");

        public static void MakeFifo(string path) => Check(mkfifo(path, 0x180 /* 0600 */), "mkfifo");

        /// <summary>Frees the file's memory in a range without changing its size, so the range becomes sparse.</summary>
        public static void PunchHole(string path, long offset, long length)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
            const int PunchHoleKeepSize = 0x02 | 0x01;
            Check(fallocate((int)stream.SafeFileHandle.DangerousGetHandle(), PunchHoleKeepSize, offset, length), "fallocate");
        }

        public static void Chmod(string path, int mode)
        {
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, (UnixFileMode)mode);
            }
        }

        private static void Check(int result, string function)
        {
            if (result != 0)
            {
                throw new IOException($"{function} failed with errno {Marshal.GetLastWin32Error()}");
            }
        }
    }
}
