using System;
using System.Globalization;
using System.Management.Automation;
using System.Threading;

namespace PSSharedMemory
{
    /// <summary>
    /// Lets a -Timeout TimeSpan also be given as a number of seconds (30, 0.5, '2.5'). -1 (or a negative
    /// TimeSpan of -1 ms, or anything beyond 24 days) means wait without limit.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class TimeoutTransformationAttribute : ArgumentTransformationAttribute
    {
        private static readonly TimeSpan s_longest = TimeSpan.FromMilliseconds(int.MaxValue);

        /// <inheritdoc />
        public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
        {
            object value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
            TimeSpan timeout = value switch
            {
                TimeSpan span => span,
                int seconds => FromSeconds(seconds),
                long seconds => FromSeconds(seconds),
                double seconds => FromSeconds(seconds),
                decimal seconds => FromSeconds((double)seconds),
                string text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) => FromSeconds(seconds),
                string text when TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out TimeSpan span) => span,
                _ => throw new ArgumentTransformationMetadataException(
                    $"Cannot use '{value}' as a timeout. Give a TimeSpan (New-TimeSpan -Seconds 30) or a number of seconds; -1 waits without limit."),
            };

            if (timeout == Timeout.InfiniteTimeSpan || timeout >= s_longest)
            {
                return Timeout.InfiniteTimeSpan;
            }

            if (timeout < TimeSpan.Zero)
            {
                throw new ArgumentTransformationMetadataException(
                    $"The timeout {timeout} is negative. Give zero or more seconds, or -1 to wait without limit.");
            }

            return timeout;
        }

        private static TimeSpan FromSeconds(double seconds)
        {
            if (seconds == -1)
            {
                return Timeout.InfiniteTimeSpan;
            }

            if (double.IsNaN(seconds) || seconds < 0)
            {
                throw new ArgumentTransformationMetadataException(
                    $"The timeout {seconds.ToString(CultureInfo.InvariantCulture)} seconds is negative. Give zero or more seconds, or -1 to wait without limit.");
            }

            return seconds >= s_longest.TotalSeconds ? Timeout.InfiniteTimeSpan : TimeSpan.FromTicks((long)(seconds * TimeSpan.TicksPerSecond));
        }
    }
}
