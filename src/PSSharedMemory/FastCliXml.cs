using System.Runtime.CompilerServices;
using System.Threading;

namespace PSSharedMemory
{
    /// <summary>
    /// CliXml for the commonest payloads, written and read several times faster than PSSerializer: PSCustomObjects
    /// (what Select-Object and [pscustomobject]@{...} make) whose properties are plain values, enums, other such
    /// objects, arrays and lists of them, and hashtables. The writer makes ordinary CliXml that PSSerializer reads
    /// back into exactly what it would have made itself; the reader builds from such CliXml (the writer's, or
    /// PSSerializer's for the same shapes) exactly what PSSerializer would. Anything else makes either side return
    /// null, and the caller hands the whole payload to PSSerializer.
    /// </summary>
    internal static partial class FastCliXml
    {
        private const string Namespace = "http://schemas.microsoft.com/powershell/2004/04";
        private const string Header = "<Objs Version=\"1.1.0.1\" xmlns=\"" + Namespace + "\">";

        // MethodImplOptions.AggressiveOptimization, which netstandard2.0 does not name: the parsing and writing
        // methods are compiled optimized at once. PowerShell keeps the JIT busy with its own code, which delays
        // promoting tiered code for a long time; .NET Framework ignores the flag.
        private const MethodImplOptions Optimized = (MethodImplOptions)512;

        private static long s_fastWrites;
        private static long s_fallbackWrites;
        private static long s_fastReads;
        private static long s_fallbackReads;

        /// <summary>How many payloads the fast writer wrote (tests read it to prove the fast path ran).</summary>
        internal static long FastWrites => Interlocked.Read(ref s_fastWrites);

        /// <summary>How many payloads the fast writer left to PSSerializer.</summary>
        internal static long FallbackWrites => Interlocked.Read(ref s_fallbackWrites);

        /// <summary>How many payloads the fast reader read.</summary>
        internal static long FastReads => Interlocked.Read(ref s_fastReads);

        /// <summary>How many payloads the fast reader left to PSSerializer.</summary>
        internal static long FallbackReads => Interlocked.Read(ref s_fallbackReads);
    }
}
