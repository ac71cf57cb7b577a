using System;
using System.Collections.Concurrent;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using PSSharedMemory.Engine;

namespace PSSharedMemory
{
    /// <summary>
    /// Chooses the store a command works on: the one -Store names, else the one a segment object remembers,
    /// else the one PSSHAREDMEMORY_STORE names (a redis:// or rediss:// URI), else the local store. Server stores
    /// are connected once per process and URI, and loaded only then (see <see cref="RedisStoreLoader"/>).
    /// </summary>
    internal static class StoreSelector
    {
        /// <summary>The environment variable that picks the store of every command of the session.</summary>
        public const string EnvironmentVariable = "PSSHAREDMEMORY_STORE";

        // Connected stores, by the URI as given (with its password), and by their Location (without).
        private static readonly ConcurrentDictionary<string, ISharedMemoryStore> s_byUri = new ConcurrentDictionary<string, ISharedMemoryStore>(StringComparer.Ordinal);
        private static readonly ConcurrentDictionary<string, ISharedMemoryStore> s_byLocation = new ConcurrentDictionary<string, ISharedMemoryStore>(StringComparer.OrdinalIgnoreCase);
        private static readonly object s_gate = new object();

        /// <summary>True when <paramref name="value"/> names a server store (redis:// or rediss://) rather than the local one.</summary>
        public static bool IsServerUri(string? value) =>
            value is not null
            && (value.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase));

        /// <summary>
        /// The store for <paramref name="given"/>: "Local" (or empty) for the local store, a redis:// or rediss://
        /// URI for a Redis server. Null or empty: the store PSSHAREDMEMORY_STORE names, the local one by default.
        /// </summary>
        public static ISharedMemoryStore Resolve(string? given, PSCmdlet? cmdlet)
        {
            if (string.IsNullOrEmpty(given))
            {
                string? variable = Environment.GetEnvironmentVariable(EnvironmentVariable);
                return IsServerUri(variable) ? Server(variable!, cmdlet) : LocalSharedMemoryStore.Instance;
            }

            if (string.Equals(given, LocalSharedMemoryStore.LocalLocation, StringComparison.OrdinalIgnoreCase))
            {
                return LocalSharedMemoryStore.Instance;
            }

            if (IsServerUri(given))
            {
                // A segment object remembers its store without the password: use the store connected under that name.
                if (s_byLocation.TryGetValue(given!, out ISharedMemoryStore? known))
                {
                    return known;
                }

                string? variable = Environment.GetEnvironmentVariable(EnvironmentVariable);
                if (IsServerUri(variable) && string.Equals(Server(variable!, cmdlet).Location, given, StringComparison.OrdinalIgnoreCase))
                {
                    return Server(variable!, cmdlet);
                }

                return Server(given!, cmdlet);
            }

            throw new SharedMemoryException(SharedMemoryErrorCode.InvalidStore, null,
                $"'{given}' is not a store. Give Local for the shared memory of this machine, or the URI of a Redis server: redis://host:6379/0, or rediss://user:password@host:6380/0 for TLS.");
        }

        /// <summary>Closes every server connection (at process exit).</summary>
        public static void CloseAll()
        {
            foreach (ISharedMemoryStore store in s_byUri.Values)
            {
                (store as IDisposable)?.Dispose();
            }

            s_byUri.Clear();
            s_byLocation.Clear();
        }

        private static ISharedMemoryStore Server(string uri, PSCmdlet? cmdlet)
        {
            if (s_byUri.TryGetValue(uri, out ISharedMemoryStore? store))
            {
                return store;
            }

            lock (s_gate)
            {
                if (s_byUri.TryGetValue(uri, out store))
                {
                    return store;
                }

                store = RedisStoreLoader.Connect(uri, SecretPassword(uri, cmdlet));
                s_byUri[uri] = store;
                s_byLocation[store.Location] = store;
                return store;
            }
        }

        /// <summary>
        /// The password of a URI that names a SecretManagement secret (?secret=Name, and optionally &amp;vault=Vault):
        /// read with Get-Secret in the calling session. Null when the URI names none.
        /// </summary>
        private static string? SecretPassword(string uri, PSCmdlet? cmdlet)
        {
            int query = uri.IndexOf('?');
            if (query < 0)
            {
                return null;
            }

            string? secret = null;
            string? vault = null;
            foreach (string pair in uri.Substring(query + 1).Split('&'))
            {
                int equals = pair.IndexOf('=');
                if (equals <= 0)
                {
                    continue;
                }

                string key = pair.Substring(0, equals);
                string value = Uri.UnescapeDataString(pair.Substring(equals + 1));
                if (string.Equals(key, "secret", StringComparison.OrdinalIgnoreCase))
                {
                    secret = value;
                }
                else if (string.Equals(key, "vault", StringComparison.OrdinalIgnoreCase))
                {
                    vault = value;
                }
            }

            if (secret is null)
            {
                return null;
            }

            if (cmdlet is null)
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.InvalidStore, null,
                    $"The store's URI names the secret '{secret}', which can be read only from a command of the session.");
            }

            try
            {
                var found = cmdlet.InvokeCommand.InvokeScript(
                    "param($Name, $Vault) if ($Vault) { Get-Secret -Name $Name -Vault $Vault -AsPlainText -ErrorAction Stop } else { Get-Secret -Name $Name -AsPlainText -ErrorAction Stop }",
                    false, PipelineResultTypes.None, null, secret, vault);
                foreach (PSObject item in found)
                {
                    if (item?.BaseObject is string text)
                    {
                        return text;
                    }
                }
            }
            catch (Exception e) when (e is RuntimeException || e is InvalidOperationException)
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.AuthenticationFailed, null,
                    $"The store's password could not be read from the secret '{secret}'{(vault is null ? string.Empty : " of vault '" + vault + "'")}: {e.Message} Install Microsoft.PowerShell.SecretManagement and register the vault, or give the password in the URI.");
            }

            throw new SharedMemoryException(SharedMemoryErrorCode.AuthenticationFailed, null,
                $"The secret '{secret}' gave no text to use as the store's password.");
        }
    }
}
