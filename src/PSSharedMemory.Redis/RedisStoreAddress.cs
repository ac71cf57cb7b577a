using System;
using System.Globalization;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Redis
{
    /// <summary>
    /// What a store URI says: redis://[user[:password]@]host[:port][/db][?options] (rediss:// for TLS).
    /// Options: connectTimeout (ms), lease (ms), prefix, sslHost; secret and vault are read by the module.
    /// </summary>
    internal sealed class RedisStoreAddress
    {
        private RedisStoreAddress(string host, int port, bool tls)
        {
            Host = host;
            Port = port;
            Tls = tls;
        }

        public string Host { get; }

        public int Port { get; }

        public bool Tls { get; }

        public string? User { get; private set; }

        public string? Password { get; private set; }

        public int Database { get; private set; }

        public TimeSpan ConnectTimeout { get; private set; } = TimeSpan.FromSeconds(5);

        public TimeSpan LockLease { get; private set; } = RedisSharedMemoryStore.DefaultLockLease;

        public string KeyRoot { get; private set; } = "pssm";

        public string? SslHost { get; private set; }

        /// <summary>The URI without its password, as users see it: scheme://[user@]host:port/db.</summary>
        public string Location =>
            (Tls ? "rediss://" : "redis://") + (User is null ? string.Empty : Uri.EscapeDataString(User) + "@")
            + (Host.IndexOf(':') >= 0 ? "[" + Host + "]" : Host) + ":" + Port.ToString(CultureInfo.InvariantCulture) + "/" + Database.ToString(CultureInfo.InvariantCulture);

        public static RedisStoreAddress Parse(string text)
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri)
                || !(string.Equals(uri.Scheme, "redis", StringComparison.OrdinalIgnoreCase) || string.Equals(uri.Scheme, "rediss", StringComparison.OrdinalIgnoreCase))
                || string.IsNullOrEmpty(uri.Host))
            {
                throw Invalid(text, "it is not a redis:// or rediss:// URI with a host");
            }

            bool tls = string.Equals(uri.Scheme, "rediss", StringComparison.OrdinalIgnoreCase);
            var address = new RedisStoreAddress(uri.Host.Trim('[', ']'), uri.IsDefaultPort || uri.Port < 0 ? 6379 : uri.Port, tls);
            if (!string.IsNullOrEmpty(uri.UserInfo))
            {
                string[] parts = uri.UserInfo.Split(new[] { ':' }, 2);
                string user = Uri.UnescapeDataString(parts[0]);
                address.User = user.Length == 0 ? null : user;
                address.Password = parts.Length == 2 ? Uri.UnescapeDataString(parts[1]) : null;
            }

            string path = uri.AbsolutePath.Trim('/');
            if (path.Length > 0)
            {
                if (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out int database))
                {
                    throw Invalid(text, $"the path '/{path}' is not a database number");
                }

                address.Database = database;
            }

            foreach (string pair in uri.Query.TrimStart('?').Split(new[] { '&' }, StringSplitOptions.RemoveEmptyEntries))
            {
                int equals = pair.IndexOf('=');
                string key = equals < 0 ? pair : pair.Substring(0, equals);
                string value = equals < 0 ? string.Empty : Uri.UnescapeDataString(pair.Substring(equals + 1));
                switch (key.ToLowerInvariant())
                {
                    case "connecttimeout":
                        address.ConnectTimeout = TimeSpan.FromMilliseconds(Milliseconds(text, key, value));
                        break;
                    case "lease":
                        address.LockLease = TimeSpan.FromMilliseconds(Milliseconds(text, key, value));
                        break;
                    case "prefix":
                        address.KeyRoot = value.Length == 0 ? throw Invalid(text, "prefix is empty") : value;
                        break;
                    case "sslhost":
                        address.SslHost = value;
                        break;
                    case "secret":
                    case "vault":
                        break;
                    default:
                        throw Invalid(text, $"'{key}' is not an option (connectTimeout, lease, prefix, sslHost, secret, vault)");
                }
            }

            return address;
        }

        private static int Milliseconds(string text, string key, string value) =>
            int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int ms) && ms >= 100
                ? ms
                : throw Invalid(text, $"{key} is not a number of milliseconds of at least 100");

        private static SharedMemoryException Invalid(string text, string why)
        {
            // Never show a password.
            string shown = text;
            int at = shown.IndexOf('@');
            int scheme = shown.IndexOf("://", StringComparison.Ordinal);
            if (at > 0 && scheme > 0 && at > scheme)
            {
                shown = shown.Substring(0, scheme + 3) + "***" + shown.Substring(at);
            }

            return new SharedMemoryException(SharedMemoryErrorCode.InvalidStore, null,
                $"'{shown}' is not a usable Redis store: {why}. Give redis://host:6379/0, or rediss://user:password@host:6380/0 for TLS.");
        }
    }
}
