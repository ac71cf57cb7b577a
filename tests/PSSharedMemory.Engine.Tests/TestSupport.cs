using System;
using Xunit;

[assembly: Xunit.v3.Parallelization(Mode = Xunit.Sdk.ParallelMode.None)]

namespace PSSharedMemory.Engine.Tests
{
    /// <summary>
    /// Conditions for skipping tests, named in [Fact(SkipUnless = ...)] rather than tested with Assert.Skip: a skip
    /// decided before the test starts throws nothing, and under Wine 8 an exception that leaves a test method
    /// stops the xunit.v3 runner (see build.ps1 -Task TestWindows).
    /// </summary>
    public static class Platform
    {
        public static bool IsLinux => OperatingSystem.IsLinux();

        public static bool IsWindows => OperatingSystem.IsWindows();

        public static bool IsMacOS => OperatingSystem.IsMacOS();

        /// <summary>Root on Linux: to change file owners and mount a tmpfs.</summary>
        public static bool IsLinuxRoot => OperatingSystem.IsLinux() && Environment.UserName == "root";

        /// <summary>Root on Linux with setpriv, to run a helper as user nobody.</summary>
        public static bool CanRunAsAnotherUser =>
            OperatingSystem.IsLinux() && Environment.UserName == "root" && System.IO.File.Exists("/usr/bin/setpriv");
    }

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
