using System;
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

        [Fact]
        public void OnLinuxNamesAreFileNames()
        {
            Assert.SkipUnless(OperatingSystem.IsLinux(), "Linux keeps names as they are; Windows and macOS spell capitals.");

            SegmentStore store = SegmentStore.For(SharedMemoryScope.User);
            Assert.Equal("Chat", store.FileNameOf("Chat"));
            Assert.EndsWith("/Chat.pssm", store.PathOf("Chat"), StringComparison.Ordinal);
        }

        private sealed class CaseFoldingStore : SegmentStore
        {
            public override SharedMemoryScope Scope => SharedMemoryScope.User;

            public override string Directory => "/nowhere";

            protected override bool FoldsCase => true;

            public override SegmentMapping Create(string name, long fileLength, int permissions, Action<SegmentMapping> initialize) => throw new NotSupportedException();

            public override SegmentMapping Open(string name) => throw new NotSupportedException();

            public override bool Unlink(string name) => throw new NotSupportedException();
        }
    }
}
