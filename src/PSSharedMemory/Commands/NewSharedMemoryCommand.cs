using System;
using System.Management.Automation;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Commands
{
    /// <summary>New-SharedMemory: creates a segment of a fixed size, a growable one, or a queue, and returns it.</summary>
    [Cmdlet(VerbsCommon.New, "SharedMemory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, HelpUri = HelpLinks.New)]
    [OutputType(typeof(SharedMemoryInfo))]
    public sealed class NewSharedMemoryCommand : ScopedCommandBase
    {
        private int? _permissions;

        /// <summary>The new segment's name.</summary>
        [Parameter(
            Mandatory = true,
            Position = 0,
            ValueFromPipeline = true)]
        [ArgumentCompleter(typeof(NewSegmentNameCompleter))]
        [SegmentNameArgument]
        [AllowEmptyString]
        public string Name { get; set; } = string.Empty;

        /// <summary>Payload size in bytes (64KB, 1MB...); fixed for the segment's life unless -Growable. Default 64 KiB, or 4 KiB with -Growable. With -Queue: the bytes the messages can take, rounded up to a multiple of 8.</summary>
        [Parameter(Position = 1)]
        public long Size { get; set; } = DefaultSize;

        /// <summary>Create a growable segment: a write that needs more room grows it, up to -MaximumSize, instead of failing.</summary>
        [Parameter]
        public SwitchParameter Growable { get; set; }

        /// <summary>Create a queue: messages sent with Send-SharedMemoryMessage, each received once, oldest first, by Receive-SharedMemoryMessage.</summary>
        [Parameter]
        public SwitchParameter Queue { get; set; }

        /// <summary>With -Growable: the most the segment may grow to, in bytes (default 1 TiB; the store's free space usually ends growth first).</summary>
        [Parameter]
        public long MaximumSize { get; set; }

        /// <summary>Unix permission bits as octal digits (600, 660); default 600 for User, 660 for Global. Ignored on Windows.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Permission { get; set; } = string.Empty;

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            bool sizeGiven = MyInvocation.BoundParameters.ContainsKey(nameof(Size));
            if (Queue && (Growable || MyInvocation.BoundParameters.ContainsKey(nameof(MaximumSize))))
            {
                ThrowTerminatingError(ErrorHelper.QueueNotGrowable());
            }

            if (MyInvocation.BoundParameters.ContainsKey(nameof(MaximumSize)) && !Growable)
            {
                ThrowTerminatingError(ErrorHelper.MaximumSizeNeedsGrowable());
            }

            if (Growable && !sizeGiven)
            {
                Size = SharedMemorySegment.GrowableSizeFor(0);
            }

            if (MyInvocation.BoundParameters.ContainsKey(nameof(Permission)))
            {
                string digits = Permission.StartsWith("0o", StringComparison.OrdinalIgnoreCase) ? Permission.Substring(2) : Permission;
                int value = 0;
                bool valid = digits.Length >= 1 && digits.Length <= 4;
                foreach (char c in digits)
                {
                    valid &= c >= '0' && c <= '7';
                    value = value * 8 + (c - '0');
                }

                if (!valid || value > 0x1FF)
                {
                    ThrowTerminatingError(ErrorHelper.InvalidPermission(Permission));
                }

                _permissions = value;
            }
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            string action = Queue ? $"Create shared memory queue of {Size} bytes"
                : Growable ? $"Create growable shared memory segment of {Size} bytes"
                : $"Create shared memory segment of {Size} bytes";
            if (!ShouldProcess($"{Name} ({Scope})", action))
            {
                return;
            }

            try
            {
                var options = new SharedMemoryOptions
                {
                    Scope = Scope,
                    Permissions = _permissions,
                    Growable = Growable,
                    Kind = Queue ? SharedMemorySegmentKind.Queue : SharedMemorySegmentKind.Value,
                    MaximumSize = MyInvocation.BoundParameters.ContainsKey(nameof(MaximumSize)) ? MaximumSize : (long?)null,
                };
                ISharedMemorySegment segment = SegmentCache.Add(StoreFor(null).Create(Name, Size, options));
                WriteObject(new SharedMemoryInfo(segment.GetInfo()));
            }
            catch (Exception e) when (IsReportable(e))
            {
                WriteFailure(e, Name);
            }
        }
    }
}
