using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace PSSharedMemory.Engine.Tests
{
    /// <summary>
    /// On Windows and macOS the store's file system ignores case; names must still be case-sensitive
    /// there, so capitals are spelled with '^'. Checked here through a store that folds case.
    /// </summary>
    public sealed class FileNameTests
    {
        [Theory]
        [InlineData("chat", "chat")]
        [InlineData("Chat", "^chat")]
        [InlineData("CHAT-1.x_Y", "^c^h^a^t-1.x_^y")]
        [InlineData("0", "0")]
        public void CapitalsAreSpelledSoThatNamesDifferingInCaseGetDifferentFiles(string name, string fileName)
        {
            var store = new CaseFoldingStore();
            Assert.Equal(fileName, store.FileNameOf(name));
            Assert.Equal(fileName.ToLowerInvariant(), store.FileNameOf(name));
            Assert.Equal(name, store.NameOf(fileName));
        }

        [Theory]
        [InlineData("Chat")]
        [InlineData("chat^")]
        [InlineData("^1")]
        [InlineData("^^a")]
        public void FilesNotSpelledThatWayAreNotSegments(string fileName)
        {
            Assert.Null(new CaseFoldingStore().NameOf(fileName));
        }

        [Fact(Skip = "Unix only: Linux keeps names as they are; Windows and macOS spell capitals.", SkipType = typeof(Platform), SkipUnless = nameof(Platform.IsLinux))]
        public void OnLinuxNamesAreFileNames()
        {
            SegmentStore store = SegmentStore.For(SharedMemoryScope.User);
            Assert.Equal("Chat", store.FileNameOf("Chat"));
            Assert.EndsWith("/Chat.pssm", store.PathOf("Chat"), StringComparison.Ordinal);
        }

        [Theory]
        [InlineData("con", "^-con")]
        [InlineData("nul", "^-nul")]
        [InlineData("aux", "^-aux")]
        [InlineData("prn", "^-prn")]
        [InlineData("com1", "^-com1")]
        [InlineData("com9", "^-com9")]
        [InlineData("lpt1", "^-lpt1")]
        [InlineData("lpt9", "^-lpt9")]
        [InlineData("con.log", "^-con.log")]
        [InlineData("nul.tar.gz", "^-nul.tar.gz")]
        [InlineData("Con", "^con")]
        [InlineData("CON.log", "^c^o^n.log")]
        [InlineData("console", "console")]
        [InlineData("con-1", "con-1")]
        [InlineData("com0", "com0")]
        [InlineData("com10", "com10")]
        [InlineData("x.con", "x.con")]
        public void DeviceNamesGetAPrefixWhereTheStoreReservesThem(string name, string fileName)
        {
            var store = new CaseFoldingStore(reservesDeviceNames: true);
            Assert.Equal(fileName, store.FileNameOf(name));
            Assert.Equal(name, store.NameOf(fileName));
        }

        [Fact]
        public void ANameOfCapitalsTooLongToSpellUsesTheMaskAndStaysShort()
        {
            var store = new CaseFoldingStore(reservesDeviceNames: true);
            string name = new string('A', 127) + "b";
            string fileName = store.FileNameOf(name);
            Assert.Equal(new string('a', 127) + "b" + "^~" + "7fffffffffffffffffffffffffffffff", fileName);
            Assert.Equal(name, store.NameOf(fileName));

            // The longest file name: 128 characters, the mask, and the device prefix ("con." and capitals).
            string longest = "con." + new string('X', 124);
            Assert.Equal(SegmentFileNames.MaxSpelledLength + 2, store.FileNameOf(longest).Length);
            Assert.StartsWith("^-con.xxx", store.FileNameOf(longest), StringComparison.Ordinal);
            Assert.Equal(longest, store.NameOf(store.FileNameOf(longest)));
        }

        [Fact]
        public void EveryValidNameMapsToItsOwnLowerCaseFileNameAndBack()
        {
            // Random names, mostly capitals, some near the limits; a fixed, printed seed makes a failure repeatable.
            const int seed = 20261127;
            var random = new Random(seed);
            const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
            var store = new CaseFoldingStore(reservesDeviceNames: true);
            var seen = new Dictionary<string, string>(StringComparer.Ordinal);
            var names = new List<string> { "con", "Con", "cOn", "CON", "con.A", "com1.log", new string('Z', 128), new string('z', 128) };
            for (int i = 0; i < 3000; i++)
            {
                int length = random.Next(3) == 0 ? random.Next(100, 129) : random.Next(1, 20);
                var chars = new char[length];
                for (int j = 0; j < length; j++)
                {
                    chars[j] = random.Next(2) == 0 ? (char)('A' + random.Next(26)) : alphabet[random.Next(j == 0 ? 62 : alphabet.Length)];
                }

                names.Add(new string(chars));
            }

            foreach (string name in names.Distinct())
            {
                Assert.True(SegmentName.IsValid(name), $"seed {seed}: generated an invalid name '{name}'");
                string fileName = store.FileNameOf(name);
                Assert.True(fileName == fileName.ToLowerInvariant(), $"seed {seed}: '{fileName}' for '{name}' has capitals");
                Assert.True(fileName.Length <= SegmentFileNames.MaxSpelledLength + SegmentFileNames.DeviceEscape.Length, $"seed {seed}: '{fileName}' is too long");
                Assert.Equal(name, store.NameOf(fileName));
                Assert.False(seen.TryGetValue(fileName, out string? other), $"seed {seed}: '{name}' and '{other}' share the file name '{fileName}'");
                seen.Add(fileName, name);
            }
        }

        [Theory]
        [InlineData("con")]
        [InlineData("nul.log")]
        [InlineData("^-chat")]
        [InlineData("^-^con")]
        [InlineData("^-")]
        [InlineData("abc^~00000000000000000000000000000001")]
        [InlineData("abc^~00000000000000000000000000000008")]
        [InlineData("abc^~0000000000000000000000000000000A")]
        [InlineData("abc^~0000000000000000000000000000001")]
        [InlineData("^abc^~00000000000000000000000000000000")]
        public void NonCanonicalFileNamesAreNotSegments(string fileName)
        {
            Assert.Null(new CaseFoldingStore(reservesDeviceNames: true).NameOf(fileName));
        }

        private sealed class CaseFoldingStore : SegmentStore
        {
            private readonly bool _reservesDeviceNames;

            public CaseFoldingStore(bool reservesDeviceNames = false) => _reservesDeviceNames = reservesDeviceNames;

            protected override bool ReservesDeviceNames => _reservesDeviceNames;

            public override SharedMemoryScope Scope => SharedMemoryScope.User;

            public override string Directory => "/nowhere";

            protected override bool FoldsCase => true;

            public override SegmentMapping Create(string name, long fileLength, int permissions, Action<SegmentMapping> initialize) => throw new NotSupportedException();

            public override SegmentMapping Open(string name) => throw new NotSupportedException();

            public override bool Unlink(string name) => throw new NotSupportedException();
        }
    }
}
