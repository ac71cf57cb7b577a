using System;
using System.IO;
using System.Threading;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// Windows: a <see cref="FileSystemWatcher"/> (ReadDirectoryChangesW) on the store folder, which wakes the
    /// waiter when an entry of the segment's file name is created or renamed into place (a create publishes
    /// the segment by renaming its temporary file).
    /// </summary>
    /// <remarks>
    /// The watcher's notices are not guaranteed: its buffer can overflow, and under Wine a notice can come
    /// late or not at all. So the waiter also looks every <see cref="WatchedSliceMilliseconds"/>, and a missed
    /// notice costs latency only. While the store folder does not exist there is nothing to watch, and the
    /// waiter looks every <see cref="StoreWatch.PollMilliseconds"/> until it does.
    /// </remarks>
    internal sealed class DirectoryStoreWatch : StoreWatch
    {
        public const int WatchedSliceMilliseconds = 250;

        private readonly string _directory;
        private readonly string _fileName;
        private readonly AutoResetEvent _seen = new AutoResetEvent(false);
        private FileSystemWatcher? _watcher;
        private volatile bool _broken;

        public DirectoryStoreWatch(string directory, string fileName)
        {
            _directory = directory;
            _fileName = fileName;
        }

        /// <summary>True while a watcher is in place (test hook).</summary>
        internal bool IsWatching => _watcher is not null && !_broken;

        public override int SliceMilliseconds => IsWatching ? WatchedSliceMilliseconds : PollMilliseconds;

        public override void Arm()
        {
            if (_watcher is not null)
            {
                if (!_broken)
                {
                    return;
                }

                // It stopped (its folder was removed, or its buffer overflowed): start a new one.
                _watcher.Dispose();
                _watcher = null;
                _broken = false;
            }

            if (!Directory.Exists(_directory))
            {
                return;
            }

            FileSystemWatcher? watcher = null;
            try
            {
                watcher = new FileSystemWatcher(_directory)
                {
                    NotifyFilter = NotifyFilters.FileName,
                    IncludeSubdirectories = false,
                };
                watcher.Created += OnEntry;
                watcher.Renamed += OnEntry;
                watcher.Error += OnError;
                watcher.EnableRaisingEvents = true;
                _watcher = watcher;
            }
            catch (Exception e) when (e is ArgumentException || e is IOException || e is UnauthorizedAccessException || e is PlatformNotSupportedException)
            {
                // Removed since the check, or not watchable: the waiter looks on its short slices.
                watcher?.Dispose();
            }
        }

        public override bool Sleep(int milliseconds, CancellationToken cancellationToken)
        {
            if (!cancellationToken.CanBeCanceled)
            {
                return _seen.WaitOne(milliseconds);
            }

            return WaitHandle.WaitAny(new[] { _seen, cancellationToken.WaitHandle }, milliseconds) == 0;
        }

        public override void Dispose()
        {
            _watcher?.Dispose();
            _seen.Dispose();
        }

        private void OnEntry(object sender, FileSystemEventArgs e)
        {
            if (string.Equals(e.Name, _fileName, StringComparison.OrdinalIgnoreCase))
            {
                SetQuietly();
            }
        }

        private void OnError(object sender, ErrorEventArgs e)
        {
            // Notices were lost: look now, and let the next Arm start a fresh watcher.
            _broken = true;
            SetQuietly();
        }

        private void SetQuietly()
        {
            try
            {
                _seen.Set();
            }
            catch (ObjectDisposedException)
            {
                // A notice that arrived as the wait ended.
            }
        }
    }
}
