using System;
using System.Text;
using System.Threading;
using PSSharedMemory.Engine.Native;

namespace PSSharedMemory.Engine
{
    /// <summary>How a wait for a segment name learns that the Unix store got a new entry (docs/segment-format.md, "Waiting for a name").</summary>
    internal sealed unsafe partial class UnixSegmentStore
    {
        public override StoreWatch WatchForCreation(string name)
        {
            if (!Libc.IsMacOS)
            {
                try
                {
                    return new InotifyStoreWatch(this, FileNameOf(name) + FileExtension);
                }
                catch (NativeException e) when (e.ErrorCode == Libc.EMFILE || e.ErrorCode == Libc.ENFILE || e.ErrorCode == Libc.ENOMEM || e.ErrorCode == Libc.ENOSYS)
                {
                    // No inotify instance to spare (fs.inotify.max_user_instances, 128 by default, counts every
                    // process of the user), or a kernel without inotify: look at the name on a timer instead.
                }
                catch (EntryPointNotFoundException)
                {
                    // A libc without inotify_init1.
                }
            }

            // macOS has no inotify. A kqueue on the store directory (EVFILT_VNODE, NOTE_WRITE) could tell of new
            // entries; a look every 20 ms is cheap, and simple enough to be right without a Mac to test on.
            return new PollingStoreWatch();
        }

        /// <summary>
        /// Linux: an inotify watch on the store directory for entries created (link(2) publishes a segment)
        /// or moved in, and, while the store directory does not exist, a watch on its parent for the directory
        /// to appear. The waiter sleeps in poll(2) on the inotify descriptor and on an eventfd that
        /// cancellation signals, and wakes only for an entry of the segment's file name.
        /// </summary>
        /// <remarks>
        /// The watches are added by path. They only decide when to look again: every look is a trusted
        /// <see cref="Open"/> (the store opened without following links and checked), so a watch on the wrong
        /// directory could only cost latency, never open anything the trust checks refuse.
        /// </remarks>
        internal sealed class InotifyStoreWatch : StoreWatch
        {
            /// <summary>With a watch in place the only misses are exotic (a store on a network file system), so looks without a notice are rare.</summary>
            public const int WatchedSliceMilliseconds = 500;

            private const uint StoreEvents = Libc.IN_CREATE | Libc.IN_MOVED_TO | Libc.IN_MOVE_SELF | Libc.IN_DELETE_SELF | Libc.IN_ONLYDIR | Libc.IN_DONT_FOLLOW;
            private const uint ParentEvents = Libc.IN_CREATE | Libc.IN_MOVED_TO | Libc.IN_ONLYDIR;
            private const int BufferSize = 4096;

            private readonly UnixSegmentStore _store;
            private readonly byte[] _fileName;
            private readonly byte[] _storeName;
            private readonly string _parent;
            private readonly SafeFileDescriptor _inotify;
            private SafeFileDescriptor? _cancel;
            private int _storeWatch = -1;
            private int _parentWatch = -1;
            private bool _storeAbsent;

            public InotifyStoreWatch(UnixSegmentStore store, string fileName)
            {
                _store = store;
                _fileName = Encoding.UTF8.GetBytes(fileName);
                string directory = store.Directory.TrimEnd('/');
                _storeName = Encoding.UTF8.GetBytes(System.IO.Path.GetFileName(directory));
                _parent = System.IO.Path.GetDirectoryName(directory) ?? "/";
                _inotify = Libc.InotifyInit();
            }

            /// <summary>True while the watch can tell of the segment's creation (test hook).</summary>
            internal bool IsWatching => _storeWatch >= 0 || (_storeAbsent && _parentWatch >= 0);

            public override int SliceMilliseconds => IsWatching ? WatchedSliceMilliseconds : PollMilliseconds;

            public override void Arm()
            {
                if (_storeWatch >= 0)
                {
                    return;
                }

                // The parent first: a store directory made after this is announced there, before the check below.
                if (_parentWatch < 0)
                {
                    _parentWatch = TryAddWatch(_parent, ParentEvents, out _);
                }

                // The store's trust checks, as every operation makes them: an untrusted store fails the wait here.
                using (SafeFileDescriptor? directory = _store.OpenDirectoryIfPresent())
                {
                    _storeAbsent = directory is null;
                    if (_storeAbsent)
                    {
                        return;
                    }
                }

                _storeWatch = TryAddWatch(_store.Directory, StoreEvents, out int error);
                if (_storeWatch < 0)
                {
                    // Removed again since the check: the parent watch sees it come back. Any other failure (no
                    // watch to spare) leaves the store unwatched, and the waiter looks on short slices.
                    _storeAbsent = error == Libc.ENOENT || error == Libc.ENOTDIR;
                    return;
                }

                if (_parentWatch >= 0)
                {
                    // Its other entries (all of /dev/shm) would only wake the sleep for nothing.
                    Libc.InotifyRemoveWatch(_inotify, _parentWatch);
                    _parentWatch = -1;
                }
            }

            public override bool Sleep(int milliseconds, CancellationToken cancellationToken)
            {
                if (cancellationToken.CanBeCanceled && _cancel is null)
                {
                    _cancel = Libc.EventFd();
                }

                SafeFileDescriptor? cancel = cancellationToken.CanBeCanceled ? _cancel : null;
                using CancellationTokenRegistration registration = cancel is null
                    ? default
                    : cancellationToken.Register(() => Libc.EventFdSignal(cancel));
                Deadline deadline = Deadline.After(TimeSpan.FromMilliseconds(milliseconds));
                bool inotifyAdded = false;
                bool cancelAdded = false;
                try
                {
                    _inotify.DangerousAddRef(ref inotifyAdded);
                    cancel?.DangerousAddRef(ref cancelAdded);
                    Libc.PollDescriptor* descriptors = stackalloc Libc.PollDescriptor[2];
                    descriptors[0] = new Libc.PollDescriptor { Fd = Descriptor(_inotify), Events = Libc.POLLIN };
                    descriptors[1] = new Libc.PollDescriptor { Fd = cancel is null ? -1 : Descriptor(cancel), Events = Libc.POLLIN };
                    while (!cancellationToken.IsCancellationRequested)
                    {
                        int remaining = deadline.RemainingMilliseconds;
                        if (remaining == 0 || !Libc.Poll(descriptors, cancel is null ? 1 : 2, remaining))
                        {
                            // The slice is over; a signal that interrupted the poll only shortens it.
                            if (deadline.HasPassed)
                            {
                                return false;
                            }

                            continue;
                        }

                        if ((descriptors[0].ReturnedEvents & Libc.POLLIN) != 0 && ReadEvents())
                        {
                            return true;
                        }

                        // Otherwise: entries of other names, or the cancellation, which the loop condition ends.
                    }

                    return false;
                }
                finally
                {
                    if (cancelAdded)
                    {
                        cancel!.DangerousRelease();
                    }

                    if (inotifyAdded)
                    {
                        _inotify.DangerousRelease();
                    }
                }
            }

            public override void Dispose()
            {
                _cancel?.Dispose();

                // Closing the inotify descriptor removes its watches, and waits for the kernel to retire them
                // (an RCU grace period: from a fraction of a millisecond to several on a busy machine). The
                // wait is over; the caller need not wait for that, so the descriptor is closed on a pool thread.
                ThreadPool.UnsafeQueueUserWorkItem(state => ((SafeFileDescriptor)state!).Dispose(), _inotify);
            }

            private static int Descriptor(SafeFileDescriptor fd) => unchecked((int)fd.DangerousGetHandle().ToInt64());

            private int TryAddWatch(string path, uint mask, out int error)
            {
                try
                {
                    error = 0;
                    return Libc.InotifyAddWatch(_inotify, path, mask);
                }
                catch (NativeException e)
                {
                    // Missing (ENOENT), not a directory, not readable, or no watch left (ENOSPC:
                    // fs.inotify.max_user_watches). The caller falls back to short slices where it must.
                    error = e.ErrorCode;
                    return -1;
                }
            }

            /// <summary>Reads the queued events; true when one is about the segment's name or makes the watch start over.</summary>
            private bool ReadEvents()
            {
                bool relevant = false;
                byte* buffer = stackalloc byte[BufferSize];
                int count;
                while ((count = Libc.ReadAvailable(_inotify, buffer, BufferSize)) > 0)
                {
                    for (int offset = 0; offset + Libc.InotifyEventHeaderSize <= count;)
                    {
                        int watch = *(int*)(buffer + offset);
                        uint mask = *(uint*)(buffer + offset + 4);
                        int length = *(int*)(buffer + offset + 12);
                        byte* name = buffer + offset + Libc.InotifyEventHeaderSize;
                        offset += Libc.InotifyEventHeaderSize + length;
                        if ((mask & Libc.IN_Q_OVERFLOW) != 0)
                        {
                            // Events were lost: look.
                            relevant = true;
                        }
                        else if (watch == _storeWatch && _storeWatch >= 0)
                        {
                            if ((mask & (Libc.IN_IGNORED | Libc.IN_DELETE_SELF | Libc.IN_MOVE_SELF)) != 0)
                            {
                                // The store directory went away or was renamed: watch whatever takes its place.
                                Libc.InotifyRemoveWatch(_inotify, _storeWatch);
                                _storeWatch = -1;
                                relevant = true;
                            }
                            else if ((mask & (Libc.IN_CREATE | Libc.IN_MOVED_TO)) != 0 && NameIs(name, length, _fileName))
                            {
                                relevant = true;
                            }
                        }
                        else if (watch == _parentWatch && _parentWatch >= 0)
                        {
                            if ((mask & Libc.IN_IGNORED) != 0)
                            {
                                _parentWatch = -1;
                                relevant = true;
                            }
                            else if ((mask & (Libc.IN_CREATE | Libc.IN_MOVED_TO)) != 0 && NameIs(name, length, _storeName))
                            {
                                relevant = true;
                            }
                        }

                        // Anything else is about a watch removed earlier.
                    }
                }

                return relevant;
            }

            /// <summary>The event's name (NUL-padded to <paramref name="length"/> bytes) equals <paramref name="expected"/>.</summary>
            private static bool NameIs(byte* name, int length, byte[] expected)
            {
                if (length < expected.Length || (length > expected.Length && name[expected.Length] != 0))
                {
                    return false;
                }

                for (int i = 0; i < expected.Length; i++)
                {
                    if (name[i] != expected[i])
                    {
                        return false;
                    }
                }

                return true;
            }
        }
    }
}
