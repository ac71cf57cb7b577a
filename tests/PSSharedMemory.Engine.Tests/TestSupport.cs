using System;
using Xunit;

[assembly: Xunit.v3.Parallelization(Mode = Xunit.Sdk.ParallelMode.None)]

namespace PSSharedMemory.Engine.Tests
{
    /// <summary>A unique segment name that is removed when the test ends.</summary>
    internal sealed class TestName : IDisposable
    {
        public TestName(string prefix = "xunit")
        {
            Value = prefix + "-" + Guid.NewGuid().ToString("N").Substring(0, 12);
        }

        public string Value { get; }

        public static implicit operator string(TestName name) => name.Value;

        public override string ToString() => Value;

        public void Dispose()
        {
            try
            {
                SharedMemorySegment.Remove(Value);
            }
            catch (SharedMemoryException)
            {
            }
        }
    }
}
