using System;
using System.IO;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using PSSharedMemory.Engine;

namespace PSSharedMemory
{
    /// <summary>
    /// Loads the Redis store on first use, never before: its client and the client's dependencies stay in the
    /// module's redis folder, out of the default load path, and are loaded by PSSharedMemory.Redis.Loader into
    /// an AssemblyLoadContext of their own, so another module's copy of the same assemblies cannot clash with
    /// them. The local store never touches this class.
    /// </summary>
    internal static class RedisStoreLoader
    {
        /// <summary>The module's subfolder that holds the Redis store and its dependencies.</summary>
        public const string FolderName = "redis";

        private const string LoaderAssembly = "PSSharedMemory.Redis.Loader";

        private static MethodInfo? s_connect;

        /// <summary>Connects to the Redis server a URI names; <paramref name="password"/> overrides the URI's.</summary>
        public static ISharedMemoryStore Connect(string uri, string? password)
        {
            MethodInfo connect = s_connect ??= FindConnect();
            try
            {
                return (ISharedMemoryStore)connect.Invoke(null, new object?[] { uri, password })!;
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }
        }

        private static MethodInfo FindConnect()
        {
            string framework = RuntimeInformation.FrameworkDescription;
            if (framework.StartsWith(".NET Framework", StringComparison.OrdinalIgnoreCase) || Environment.Version.Major < 8)
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.StoreNotSupported, null,
                    $"The Redis store needs PowerShell 7.4 or later (on .NET 8 or later); this PowerShell runs on {framework}. Use pwsh 7.4 or later for a Redis store, or the local store here.");
            }

            string folder = Path.Combine(Path.GetDirectoryName(typeof(RedisStoreLoader).Assembly.Location) ?? string.Empty, FolderName);
            string path = Path.Combine(folder, LoaderAssembly + ".dll");
            if (!File.Exists(path))
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.StoreNotSupported, null,
                    $"The Redis store is not installed with this module: '{path}' is missing. Reinstall the module.");
            }

            Assembly loader = Assembly.LoadFrom(path);
            Type type = loader.GetType("PSSharedMemory.Redis.Loader.RedisLoader", throwOnError: true)!;
            return type.GetMethod("Connect", BindingFlags.Public | BindingFlags.Static)
                ?? throw new MissingMethodException(type.FullName, "Connect");
        }
    }
}
