using System;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Redis.Loader
{
    /// <summary>
    /// Connects Redis stores through PSSharedMemory.Redis, which it loads (with StackExchange.Redis and its
    /// dependencies) into a <see cref="RedisLoadContext"/> of its own, once per process.
    /// </summary>
    public static class RedisLoader
    {
        private static readonly object s_gate = new object();
        private static Func<string, string?, ISharedMemoryStore>? s_connect;

        /// <summary>The load context that holds the Redis store's assemblies, once one was connected.</summary>
        public static AssemblyLoadContext? Context { get; private set; }

        /// <summary>Connects to the Redis server a URI names; <paramref name="password"/>, when given, overrides the URI's.</summary>
        public static ISharedMemoryStore Connect(string uri, string? password)
        {
            Func<string, string?, ISharedMemoryStore>? connect = s_connect;
            if (connect is null)
            {
                lock (s_gate)
                {
                    connect = s_connect ??= Load();
                }
            }

            return connect(uri, password);
        }

        private static Func<string, string?, ISharedMemoryStore> Load()
        {
            string folder = Path.GetDirectoryName(typeof(RedisLoader).Assembly.Location) ?? AppContext.BaseDirectory;
            var context = new RedisLoadContext(folder);
            Assembly store = context.LoadFromAssemblyName(new AssemblyName("PSSharedMemory.Redis"));
            Type type = store.GetType("PSSharedMemory.Redis.RedisSharedMemoryStore", throwOnError: true)!;
            MethodInfo method = type.GetMethod("Connect", BindingFlags.Public | BindingFlags.Static, new[] { typeof(string), typeof(string) })
                ?? throw new MissingMethodException(type.FullName, "Connect");
            Context = context;
            return method.CreateDelegate<Func<string, string?, ISharedMemoryStore>>();
        }
    }

    /// <summary>
    /// Resolves the Redis store's assemblies from its folder, and leaves the engine (whose types the store and
    /// the module share) and everything else to the default context.
    /// </summary>
    public sealed class RedisLoadContext : AssemblyLoadContext
    {
        private readonly string _folder;

        /// <summary>A context that loads from <paramref name="folder"/>.</summary>
        public RedisLoadContext(string folder)
            : base("PSSharedMemory.Redis", isCollectible: false)
        {
            _folder = folder;
        }

        /// <inheritdoc />
        protected override Assembly? Load(AssemblyName assemblyName)
        {
            string? name = assemblyName.Name;
            if (name is null || name == "PSSharedMemory.Engine" || name == "PSSharedMemory.Redis.Loader")
            {
                return null;
            }

            string path = Path.Combine(_folder, name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }
}
