using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;

namespace PSSharedMemory.Engine
{
    /// <summary>
    /// A point in time a wait must end by, on the monotonic clock, made from a timeout; and the one way
    /// timeouts are written in messages. <see cref="Timeout.InfiniteTimeSpan"/> never passes.
    /// </summary>
    public readonly struct Deadline
    {
        private readonly long _timestamp;

        private Deadline(long timestamp, TimeSpan timeout)
        {
            _timestamp = timestamp;
            Timeout = timeout;
        }

        /// <summary>The timeout this deadline was made from.</summary>
        public TimeSpan Timeout { get; }

        /// <summary>True when the deadline can never pass.</summary>
        public bool IsInfinite => _timestamp == long.MaxValue;

        /// <summary>Time left, zero once passed; <see cref="Timeout.InfiniteTimeSpan"/> for an infinite deadline.</summary>
        public TimeSpan Remaining
        {
            get
            {
                if (IsInfinite)
                {
                    return System.Threading.Timeout.InfiniteTimeSpan;
                }

                long ticks = _timestamp - Stopwatch.GetTimestamp();
                return ticks <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((double)ticks / Stopwatch.Frequency);
            }
        }

        /// <summary>Whole milliseconds left for a wait call: 0 once passed, at least 1 before, int.MaxValue if infinite.</summary>
        public int RemainingMilliseconds
        {
            get
            {
                if (IsInfinite)
                {
                    return int.MaxValue;
                }

                long ticks = _timestamp - Stopwatch.GetTimestamp();
                return ticks <= 0 ? 0 : (int)Math.Min(int.MaxValue, Math.Max(1, ticks * 1000 / Stopwatch.Frequency));
            }
        }

        /// <summary>True once the deadline has passed.</summary>
        public bool HasPassed => RemainingMilliseconds == 0;

        /// <summary>The deadline <paramref name="timeout"/> from now. Negative timeouts other than infinite are refused.</summary>
        public static Deadline After(TimeSpan timeout)
        {
            if (timeout == System.Threading.Timeout.InfiniteTimeSpan)
            {
                return new Deadline(long.MaxValue, timeout);
            }

            if (timeout < TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be zero or more, or infinite.");
            }

            return new Deadline(Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency), timeout);
        }

        /// <summary>A timeout in words for messages: "2.5 seconds", or "an unlimited time".</summary>
        public static string Describe(TimeSpan timeout) =>
            timeout == System.Threading.Timeout.InfiniteTimeSpan
                ? "an unlimited time"
                : timeout == TimeSpan.FromSeconds(1)
                    ? "1 second"
                    : timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " seconds";
    }
}
