using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;

namespace PSSharedMemory
{
    /// <summary>
    /// Lets a segment name come only from a name: a string or a plain value such as a number. Any other object
    /// (a file, a process) is refused, so piping one never turns its text into a segment name.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class SegmentNameArgumentAttribute : ArgumentTransformationAttribute
    {
        /// <inheritdoc />
        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            object? value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
            if (value is null || value is string || IsPlainValue(value))
            {
                return inputData;
            }

            // A segment object (a deserialized one too) must bind to -InputObject, which keeps its scope. The binder
            // may try -Name first; given something that converts to no string, it moves on to -InputObject.
            if (value is SharedMemoryInfo || (inputData is PSObject candidate && SharedMemoryInfoConverter.IsSegmentObject(candidate)))
            {
                return new NotAString();
            }

            if (value is IList list && !(value is byte[]))
            {
                var items = new List<object?>(list.Count);
                foreach (object? item in list)
                {
                    object? unwrapped = item is PSObject itemWrapped ? itemWrapped.BaseObject : item;
                    if (!(unwrapped is null || unwrapped is string || IsPlainValue(unwrapped)))
                    {
                        throw NotAName(unwrapped);
                    }

                    items.Add(item);
                }

                return inputData;
            }

            throw NotAName(value);
        }

        /// <summary>What a segment object becomes for -Name: it converts to no string, so -Name stays unbound.</summary>
        private sealed class NotAString
        {
            public override string ToString() => throw new PSInvalidCastException("A segment object binds to -InputObject, not to -Name.");
        }

        private static bool IsPlainValue(object value) => value is IConvertible && !(value is DateTime);

        private static ArgumentTransformationMetadataException NotAName(object value) => new ArgumentTransformationMetadataException(
            $"A {value.GetType().FullName} is not a segment name. Give the name as a string, or pipe segment objects from Get-SharedMemory.");
    }
}
