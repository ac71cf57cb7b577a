using System;
using System.Collections.ObjectModel;
using System.Management.Automation;

namespace PSSharedMemory
{
    /// <summary>
    /// Resolves -InFile, -LiteralPath and -OutFile as the built-in file cmdlets do: against the session's
    /// current location, with PSDrives and '~', and only in the FileSystem provider.
    /// </summary>
    internal static class FileSystemPaths
    {
        private const string FileSystemProvider = "FileSystem";

        /// <summary>The file a literal path names, which need not exist yet.</summary>
        public static string Unresolved(PSCmdlet cmdlet, string path, string parameter)
        {
            string resolved = string.Empty;
            ProviderInfo? provider = null;
            try
            {
                resolved = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out provider, out _);
            }
            catch (Exception e) when (IsPathError(e))
            {
                cmdlet.ThrowTerminatingError(ErrorHelper.InvalidPath(path, parameter, e));
            }

            EnsureFileSystem(cmdlet, path, parameter, provider!);
            return resolved;
        }

        /// <summary>The files a path with wildcards matches; none when nothing matches.</summary>
        public static Collection<string> Resolved(PSCmdlet cmdlet, string path, string parameter)
        {
            Collection<string> files = new Collection<string>();
            ProviderInfo? provider = null;
            try
            {
                files = cmdlet.SessionState.Path.GetResolvedProviderPathFromPSPath(path, out provider);
            }
            catch (ItemNotFoundException)
            {
                // No match: the caller says so, naming the path. A path in another provider still fails below.
                try
                {
                    cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out provider, out _);
                }
                catch (Exception e) when (IsPathError(e))
                {
                    cmdlet.ThrowTerminatingError(ErrorHelper.InvalidPath(path, parameter, e));
                }
            }
            catch (Exception e) when (IsPathError(e))
            {
                cmdlet.ThrowTerminatingError(ErrorHelper.InvalidPath(path, parameter, e));
            }

            if (provider is not null)
            {
                EnsureFileSystem(cmdlet, path, parameter, provider);
            }

            return files;
        }

        private static void EnsureFileSystem(PSCmdlet cmdlet, string path, string parameter, ProviderInfo provider)
        {
            if (!string.Equals(provider.Name, FileSystemProvider, StringComparison.OrdinalIgnoreCase))
            {
                cmdlet.ThrowTerminatingError(ErrorHelper.NotFileSystemPath(path, parameter, provider.Name));
            }
        }

        private static bool IsPathError(Exception e) =>
            e is SessionStateException || e is ProviderInvocationException || e is NotSupportedException
            || e is ArgumentException || e is PSInvalidOperationException;
    }
}
