using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using PSSharedMemory.Engine;
using StackExchange.Redis;

namespace PSSharedMemory.Redis
{
    /// <content>The connection: connecting from a URI, and each call's failures as the engine's errors.</content>
    public sealed partial class RedisSharedMemoryStore
    {
        /// <summary>
        /// Connects to the server a redis:// or rediss:// URI names: redis://[user[:password]@]host[:port][/db][?options],
        /// options being connectTimeout (ms, default 5000), lease (ms, default 3000), prefix (default pssm) and
        /// sslHost. <paramref name="password"/>, when not null, overrides the URI's.
        /// </summary>
        public static RedisSharedMemoryStore Connect(string uri, string? password)
        {
            RedisStoreAddress address = RedisStoreAddress.Parse(uri);
            var options = new ConfigurationOptions
            {
                AbortOnConnectFail = true,
                ConnectTimeout = (int)address.ConnectTimeout.TotalMilliseconds,
                SyncTimeout = (int)address.ConnectTimeout.TotalMilliseconds,
                AsyncTimeout = (int)address.ConnectTimeout.TotalMilliseconds,
                ConnectRetry = 1,
                ClientName = "PSSharedMemory",
                Ssl = address.Tls,
                User = address.User,
                Password = password ?? address.Password,
                DefaultDatabase = address.Database,
                KeepAlive = 5,
            };
            if (address.SslHost is not null)
            {
                options.SslHost = address.SslHost;
            }

            options.EndPoints.Add(address.Host, address.Port);
            var watch = Stopwatch.StartNew();
            ConnectionMultiplexer connection;
            try
            {
                connection = ConnectionMultiplexer.Connect(options);
            }
            catch (RedisConnectionException e) when (IsAuthentication(e))
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.AuthenticationFailed, null,
                    $"The Redis server at {address.Location} refused the credentials given{(address.User is null ? string.Empty : " for user '" + address.User + "'")}: {Short(e)}", null, 0, e);
            }
            catch (Exception e) when (e is RedisException || e is TimeoutException || e is System.Net.Sockets.SocketException)
            {
                throw Unavailable(address.Location, watch.Elapsed, e);
            }

            if (!connection.IsConnected)
            {
                connection.Dispose();
                throw Unavailable(address.Location, watch.Elapsed, null);
            }

            return new RedisSharedMemoryStore(connection, address.Location, address.Database, address.LockLease, address.ConnectTimeout, address.KeyRoot);
        }

        /// <summary>Runs one call to the server, turning a lost or refused connection into StoreUnavailable.</summary>
        internal T Call<T>(string? name, Func<T> call)
        {
            long started = Stopwatch.GetTimestamp();
            try
            {
                return call();
            }
            catch (Exception e) when (e is RedisConnectionException || e is RedisTimeoutException || e is TimeoutException)
            {
                throw Unavailable(Location, Stopwatch.GetElapsedTime(started), e, name);
            }
            catch (RedisServerException e) when (e.Message.StartsWith("NOPERM", StringComparison.Ordinal) || e.Message.StartsWith("NOAUTH", StringComparison.Ordinal))
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.PermissionDenied, name,
                    $"The Redis server at {Location} refused this user access{(name is null ? string.Empty : " to segment '" + name + "'")}: {e.Message}. Its ACLs decide which keys and commands each user may use.", null, 0, e);
            }
            catch (RedisServerException e) when (e.Message.IndexOf("proto-max-bulk-len", StringComparison.OrdinalIgnoreCase) >= 0 || e.Message.IndexOf("maxmemory", StringComparison.OrdinalIgnoreCase) >= 0)
            {
                throw new SharedMemoryException(SharedMemoryErrorCode.PayloadTooLarge, name,
                    $"The Redis server at {Location} refused the payload{(name is null ? string.Empty : " of segment '" + name + "'")}: {e.Message}.", null, 0, e);
            }
        }

        internal static SharedMemoryException Unavailable(string location, TimeSpan waited, Exception? e, string? name = null) =>
            new SharedMemoryException(SharedMemoryErrorCode.StoreUnavailable, name,
                $"The Redis store {location} is unavailable: it did not answer{(name is null ? string.Empty : " for segment '" + name + "'")} (waited {waited.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s){(e is null ? "." : ": " + Short(e))}",
                null, 0, e);

        internal static void CheckTimeout(TimeSpan timeout)
        {
            if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            {
                throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be zero or more, or infinite.");
            }
        }

        private static bool IsAuthentication(RedisConnectionException e) =>
            e.FailureType == ConnectionFailureType.AuthenticationFailure
            || e.ToString().IndexOf("WRONGPASS", StringComparison.Ordinal) >= 0
            || e.ToString().IndexOf("NOAUTH", StringComparison.Ordinal) >= 0
            || e.ToString().IndexOf("invalid username-password", StringComparison.OrdinalIgnoreCase) >= 0;

        private static string Short(Exception e)
        {
            string message = e.Message;
            int cut = message.IndexOf(Environment.NewLine, StringComparison.Ordinal);
            return cut > 0 ? message.Substring(0, cut) : message;
        }
    }
}
