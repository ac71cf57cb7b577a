using System;
using System.Globalization;
using System.Management.Automation;
using PSSharedMemory.Engine;

namespace PSSharedMemory
{
    /// <summary>
    /// Turns a deserialized segment object (from a job, a runspace or Import-Clixml) back into a
    /// <see cref="SharedMemoryInfo"/>, so it binds to -InputObject. Only objects whose type names say they
    /// are segment objects convert: any other object's Name property never names a segment.
    /// </summary>
    public sealed class SharedMemoryInfoConverter : PSTypeConverter
    {
        internal const string DeserializedTypeName = "Deserialized.PSSharedMemory.SharedMemoryInfo";

        /// <inheritdoc />
        public override bool CanConvertFrom(object sourceValue, Type destinationType) =>
            sourceValue is PSObject wrapped && CanConvertFrom(wrapped, destinationType);

        /// <inheritdoc />
        public override bool CanConvertFrom(PSObject sourceValue, Type destinationType) =>
            destinationType == typeof(SharedMemoryInfo) && IsSegmentObject(sourceValue);

        /// <inheritdoc />
        public override object ConvertFrom(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
            sourceValue is PSObject wrapped
                ? ConvertFrom(wrapped, destinationType, formatProvider, ignoreCase)
                : throw new PSInvalidCastException($"A {sourceValue?.GetType().FullName ?? "null"} is not a segment object.");

        /// <inheritdoc />
        public override object ConvertFrom(PSObject sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase)
        {
            if (!CanConvertFrom(sourceValue, destinationType))
            {
                throw new PSInvalidCastException("Only a segment object from Get-, New- or Write-SharedMemory (or its deserialized copy) converts to a SharedMemoryInfo.");
            }

            if (sourceValue.BaseObject is SharedMemoryInfo live)
            {
                return live;
            }

            string name = Get<string>(sourceValue, nameof(SharedMemoryInfo.Name)) ?? string.Empty;
            return new SharedMemoryInfo(
                name,
                Get<SharedMemoryScope>(sourceValue, nameof(SharedMemoryInfo.Scope)),
                Get<long>(sourceValue, nameof(SharedMemoryInfo.Size)),
                Get<long>(sourceValue, nameof(SharedMemoryInfo.Length)),
                Get<SharedMemoryContentType>(sourceValue, nameof(SharedMemoryInfo.ContentType)),
                Get<long>(sourceValue, nameof(SharedMemoryInfo.Version)),
                Get<int>(sourceValue, nameof(SharedMemoryInfo.LastWriterProcessId)),
                Get<DateTime>(sourceValue, nameof(SharedMemoryInfo.LastWriteTime)),
                Get<DateTime>(sourceValue, nameof(SharedMemoryInfo.CreationTime)),
                Get<int>(sourceValue, nameof(SharedMemoryInfo.CreatorProcessId)),
                Get<SharedMemorySegmentStatus>(sourceValue, nameof(SharedMemoryInfo.Status)),
                Get<string>(sourceValue, nameof(SharedMemoryInfo.Problem)),
                Get<bool>(sourceValue, nameof(SharedMemoryInfo.IsReadOnly)),
                Get<bool>(sourceValue, nameof(SharedMemoryInfo.IsLocked)),
                Get<int>(sourceValue, nameof(SharedMemoryInfo.LockHolderProcessId)),
                Get<string>(sourceValue, nameof(SharedMemoryInfo.LockHolderProcessName)))
            {
                IsGrowable = Get<bool>(sourceValue, nameof(SharedMemoryInfo.IsGrowable)),
                MaximumSize = Get<long>(sourceValue, nameof(SharedMemoryInfo.MaximumSize)),
                Kind = Get<SharedMemorySegmentKind>(sourceValue, nameof(SharedMemoryInfo.Kind)),
                MessageCount = Get<long>(sourceValue, nameof(SharedMemoryInfo.MessageCount)),
                Store = Get<string>(sourceValue, nameof(SharedMemoryInfo.Store)) ?? LocalSharedMemoryStore.LocalLocation,
                LastWriterHost = Get<string>(sourceValue, nameof(SharedMemoryInfo.LastWriterHost)) ?? string.Empty,
                LockHolderHost = Get<string>(sourceValue, nameof(SharedMemoryInfo.LockHolderHost)) ?? string.Empty,
            };
        }

        /// <inheritdoc />
        public override bool CanConvertTo(object sourceValue, Type destinationType) => false;

        /// <inheritdoc />
        public override object ConvertTo(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
            throw new PSInvalidCastException();

        internal static bool IsSegmentObject(PSObject value)
        {
            if (value.BaseObject is SharedMemoryInfo)
            {
                return true;
            }

            foreach (string typeName in value.TypeNames)
            {
                if (string.Equals(typeName, DeserializedTypeName, StringComparison.Ordinal))
                {
                    return value.Properties[nameof(SharedMemoryInfo.Name)]?.Value is not null;
                }
            }

            return false;
        }

        private static T Get<T>(PSObject source, string property)
        {
            object? value = source.Properties[property]?.Value;
            if (value is null)
            {
                return default!;
            }

            try
            {
                return (T)LanguagePrimitives.ConvertTo(value, typeof(T), CultureInfo.InvariantCulture);
            }
            catch (PSInvalidCastException)
            {
                return default!;
            }
        }
    }
}
