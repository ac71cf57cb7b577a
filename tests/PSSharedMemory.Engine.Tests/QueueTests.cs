using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace PSSharedMemory.Engine.Tests
{
    /// <summary>Queues (layout version 3): order, exactly-once delivery, a full queue, and crashes, across real processes.</summary>
    public sealed class QueueTests
    {
        private static readonly SharedMemoryOptions Queue = new SharedMemoryOptions { Kind = SharedMemorySegmentKind.Queue };
        private static readonly TimeSpan NoWait = TimeSpan.Zero;
        private readonly ITestOutputHelper _output;

        public QueueTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void MessagesComeOutOnceInTheOrderTheyWentInWithTheirTypes()
        {
            using var name = new TestName("queue");
            using SharedMemorySegment queue = SharedMemorySegment.Create(name, 1000, Queue);
            Assert.Equal(SharedMemorySegmentKind.Queue, queue.Kind);
            Assert.Equal(1000, queue.Size);
            Assert.False(queue.TryReceive(out _));

            long first = queue.SendText("one");
            long second = queue.Send(new byte[] { 1, 2, 3 });
            long third = queue.SendText("<Objs/>", SharedMemoryContentType.CliXml, NoWait, CancellationToken.None);
            Assert.Equal(new long[] { 1, 2, 3 }, new[] { first, second, third });
            Assert.Equal(3, queue.MessageCount);

            SharedMemorySegmentInfo info = queue.GetInfo();
            Assert.Equal(SharedMemorySegmentKind.Queue, info.Kind);
            Assert.Equal(3, info.MessageCount);
            Assert.Equal(3 * 16 + 8 + 8 + 8, info.Length);
            Assert.Equal(3, info.Version);

            // Peek copies without taking.
            Assert.Equal("one", queue.Peek(1, NoWait, CancellationToken.None).Single().GetText());
            Assert.Equal(3, queue.MessageCount);

            IReadOnlyList<SharedMemoryContent> two = queue.Receive(2, NoWait, CancellationToken.None);
            Assert.Equal(2, two.Count);
            Assert.Equal("one", two[0].GetText());
            Assert.Equal(SharedMemoryContentType.Text, two[0].ContentType);
            Assert.Equal(1, two[0].Version);
            Assert.Equal(new byte[] { 1, 2, 3 }, two[1].Data);
            Assert.Equal(SharedMemoryContentType.Bytes, two[1].ContentType);
            Assert.True(queue.TryReceive(out SharedMemoryContent? last));
            Assert.Equal(SharedMemoryContentType.CliXml, last!.ContentType);
            Assert.Equal(3, last.Version);
            Assert.False(queue.TryReceive(out _));
            Assert.Equal(0, queue.MessageCount);
            Assert.Equal(0, queue.GetInfo().Length);
        }

        [Fact]
        public void MessagesOfEveryLengthSurviveWrappingAroundASmallRing()
        {
            using var name = new TestName("queue");
            using SharedMemorySegment queue = SharedMemorySegment.Create(name, 200, Queue);
            var random = new Random(20261127);
            var expected = new Queue<byte[]>();
            for (int step = 0; step < 20_000; step++)
            {
                if (expected.Count == 0 || random.Next(2) == 0)
                {
                    byte[] message = new byte[random.Next(0, 120)];
                    random.NextBytes(message);
                    try
                    {
                        queue.Send(message, 0, message.Length, SharedMemoryContentType.Bytes, NoWait, CancellationToken.None);
                        expected.Enqueue(message);
                    }
                    catch (SharedMemoryException e) when (e.Code == SharedMemoryErrorCode.QueueFull)
                    {
                    }
                }
                else
                {
                    Assert.True(queue.TryReceive(out SharedMemoryContent? message));
                    Assert.Equal(expected.Dequeue(), message!.Data);
                }

                Assert.Equal(expected.Count, queue.MessageCount);
            }
        }

        [Fact]
        public void AFullQueueRefusesAfterItsTimeoutAndAMessageLargerThanTheQueueIsRefusedAtOnce()
        {
            using var name = new TestName("queue");
            using SharedMemorySegment queue = SharedMemorySegment.Create(name, 64, Queue);
            Assert.Equal(48, queue.MaxMessageLength);
            var tooLarge = Assert.Throws<SharedMemoryException>(() => queue.Send(new byte[49]));
            Assert.Equal(SharedMemoryErrorCode.PayloadTooLarge, tooLarge.Code);

            queue.SendText("first message");
            queue.SendText("second");
            var stopwatch = Stopwatch.StartNew();
            var full = Assert.Throws<SharedMemoryException>(() => queue.SendText("third", SharedMemoryContentType.Text, TimeSpan.FromMilliseconds(300), CancellationToken.None));
            Assert.Equal(SharedMemoryErrorCode.QueueFull, full.Code);
            Assert.True(stopwatch.ElapsedMilliseconds >= 250, $"gave up after {stopwatch.ElapsedMilliseconds} ms");
            Assert.Equal(2, queue.MessageCount);
            Assert.Equal(new[] { "first message", "second" }, queue.Receive(10, NoWait, CancellationToken.None).Select(m => m.GetText()));
        }

        [Fact]
        public void AFullQueueMakesASenderWaitUntilAnotherProcessReceives()
        {
            using var name = new TestName("queue");
            using SharedMemorySegment queue = SharedMemorySegment.Create(name, 64, Queue);
            queue.SendText("first message");
            queue.SendText("second");
            Task<long> sender = Task.Run(() => queue.SendText("third", SharedMemoryContentType.Text, TimeSpan.FromSeconds(60), CancellationToken.None));
            using (var probe = new HeaderProbe(name))
            {
                HeaderProbe.SpinUntil(() => probe.Int32At(SegmentLayout.SpaceWaitersOffset) == 1 || sender.IsCompleted, "the sender waits for room");
            }

            Assert.False(sender.IsCompleted);
            using (ChildProcess receiver = ChildProcess.Start("queue-receive", name, "1"))
            {
                Assert.Equal("got first message", receiver.WaitForLine("got"));
                Assert.Equal(0, receiver.WaitForExit());
            }

            Assert.Equal(3, sender.Wait(TimeSpan.FromSeconds(60)) ? sender.Result : -1);
            Assert.Equal(new[] { "second", "third" }, queue.Receive(10, NoWait, CancellationToken.None).Select(m => m.GetText()));
        }

        [Fact]
        public void AReceiverWaitsForAMessageFromAnotherProcess()
        {
            using var name = new TestName("queue");
            using SharedMemorySegment queue = SharedMemorySegment.Create(name, 4096, Queue);
            Task<IReadOnlyList<SharedMemoryContent>> receiver = Task.Run(() => queue.Receive(1, TimeSpan.FromSeconds(60), CancellationToken.None));
            using (var probe = new HeaderProbe(name))
            {
                HeaderProbe.SpinUntil(() => probe.ChangeWaiters == 1 || receiver.IsCompleted, "the receiver waits for a message");
            }

            Assert.False(receiver.IsCompleted);
            string[] sent = ChildProcess.Run("queue-produce", name, "p", "1");
            Assert.Equal("sent 0 1", sent[0]);
            Assert.True(receiver.Wait(TimeSpan.FromSeconds(60)));
            Assert.Equal("p 0", receiver.Result.Single().GetText());

            // And an empty queue ends a timed wait with nothing.
            Assert.Empty(queue.Receive(1, TimeSpan.FromMilliseconds(100), CancellationToken.None));
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            Assert.ThrowsAny<OperationCanceledException>(() => queue.Receive(1, TimeSpan.FromSeconds(60), cancel.Token));
        }

        [Fact]
        public void ValuesAndQueuesRefuseEachOthersOperations()
        {
            using var queueName = new TestName("queue");
            using var valueName = new TestName("value");
            using SharedMemorySegment queue = SharedMemorySegment.Create(queueName, 4096, Queue);
            using SharedMemorySegment value = SharedMemorySegment.Create(valueName, 4096);
            queue.SendText("kept");
            Assert.Equal(SharedMemoryErrorCode.WrongKind, Assert.Throws<SharedMemoryException>(() => queue.WriteText("x")).Code);
            Assert.Equal(SharedMemoryErrorCode.WrongKind, Assert.Throws<SharedMemoryException>(() => queue.Read()).Code);
            Assert.Equal(SharedMemoryErrorCode.WrongKind, Assert.Throws<SharedMemoryException>(() => value.SendText("x")).Code);
            Assert.Equal(SharedMemoryErrorCode.WrongKind, Assert.Throws<SharedMemoryException>(() => value.TryReceive(out _)).Code);
            Assert.Contains("is a queue", Assert.Throws<SharedMemoryException>(() => queue.Read()).Message);
            Assert.Equal("kept", queue.Receive(1, NoWait, CancellationToken.None).Single().GetText());
            Assert.Equal(SharedMemorySegmentKind.Value, value.Kind);
            using var stream = new FileStream(SegmentStore.For(SharedMemoryScope.User).PathOf(queueName), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var header = new byte[SegmentLayout.HeaderSize];
            stream.ReadExactly(header);
            Assert.Equal(3, BitConverter.ToUInt16(header, SegmentLayout.LayoutVersionOffset));
        }

        [Fact]
        public void ThreeProducerAndThreeConsumerProcessesDeliverEveryMessageExactlyOnceInEachProducersOrder()
        {
            using var name = new TestName("queue");
            using (SharedMemorySegment.Create(name, 16 * 1024, Queue))
            {
            }

            var consumers = Enumerable.Range(0, 3).Select(_ => ChildProcess.Start("queue-consume", name)).ToList();
            consumers.ForEach(c => c.WaitForLine("consuming"));
            var producers = Enumerable.Range(0, 3).Select(i => ChildProcess.Start("queue-produce", name, "p" + i, "1000")).ToList();
            producers.ForEach(p => p.WaitForLine("done"));

            using (SharedMemorySegment queue = SharedMemorySegment.Open(name))
            {
                for (int i = 0; i < consumers.Count; i++)
                {
                    queue.SendText("end");
                }
            }

            var received = new List<string>();
            foreach (ChildProcess consumer in consumers)
            {
                string[] lines = consumer.RemainingLinesUntilExit();
                Assert.Contains("ended", lines);
                received.AddRange(lines.Where(l => l.StartsWith("got ", StringComparison.Ordinal)));
                consumer.Dispose();
            }

            producers.ForEach(p => p.Dispose());
            var messages = received.Select(Parse).ToList();
            Assert.Equal(3000, messages.Count);
            Assert.Equal(3000, messages.Select(m => (m.Tag, m.Index)).Distinct().Count());
            foreach (IGrouping<string, Message> producer in messages.GroupBy(m => m.Tag))
            {
                long[] versions = producer.OrderBy(m => m.Index).Select(m => m.Version).ToArray();
                Assert.Equal(Enumerable.Range(0, 1000), producer.Select(m => m.Index).OrderBy(i => i));
                Assert.True(versions.Zip(versions.Skip(1), (a, b) => a < b).All(x => x), $"{producer.Key}'s messages left the queue out of order");
            }

            _output.WriteLine($"3 x 1000 messages received exactly once, in each producer's order.");
        }

        [Fact]
        public void KillingProducersAndConsumersAtRandomLosesAtMostTheirMessagesInFlightAndNeverStopsTheQueue()
        {
            using var name = new TestName("queue");
            using (SharedMemorySegment.Create(name, 8 * 1024, Queue))
            {
            }

            var random = new Random(20261127);
            var done = new List<ChildProcess>();
            var consumers = Enumerable.Range(0, 3).Select(_ => ChildProcess.Start("queue-consume", name)).ToList();
            consumers.ForEach(c => c.WaitForLine("consuming"));
            // Producers that work 10 ms between messages, so the kills land while all of them run.
            var producers = Enumerable.Range(0, 3).Select(i => (Tag: "p" + i, Process: ChildProcess.Start("queue-produce", name, "p" + i, "1000", "10"))).ToList();
            var producerLines = new Dictionary<string, List<string>>();
            var consumerLines = new List<string>();
            int consumerKills = 0;
            int producerKills = 0;
            using SharedMemorySegment watch = SharedMemorySegment.Open(name);
            for (int kill = 0; kill < 20; kill++)
            {
                // Let the queue move on before each kill: 20 more messages sent since the last one, unless every
                // producer has finished (on a slow machine the kills can outlast them).
                long progress = watch.Version + 20;
                HeaderProbe.SpinUntil(() => watch.Version >= progress || producers.All(p => p.Process.HasExited), $"the queue passes version {progress}");
                bool killConsumer = random.Next(2) == 0;
                if (killConsumer)
                {
                    int index = random.Next(consumers.Count);
                    ChildProcess victim = consumers[index];
                    victim.Kill();
                    consumerLines.AddRange(victim.RemainingLinesUntilExit().Where(l => l.StartsWith("got ", StringComparison.Ordinal)));
                    done.Add(victim);
                    consumers[index] = ChildProcess.Start("queue-consume", name);
                    consumers[index].WaitForLine("consuming");
                    consumerKills++;
                }
                else
                {
                    int index = random.Next(producers.Count);
                    (string tag, ChildProcess victim) = producers[index];
                    victim.Kill();
                    producerLines[tag] = victim.RemainingLinesUntilExit().ToList();
                    done.Add(victim);
                    string next = tag.Split('-')[0] + "-k" + kill.ToString(CultureInfo.InvariantCulture);
                    producers[index] = (next, ChildProcess.Start("queue-produce", name, next, "300", "10"));
                    producerKills++;
                }
            }

            foreach ((string tag, ChildProcess producer) in producers)
            {
                producerLines[tag] = producer.RemainingLinesUntilExit().ToList();
                Assert.Contains("done", producerLines[tag]);
                done.Add(producer);
            }

            using (SharedMemorySegment queue = SharedMemorySegment.Open(name))
            {
                consumers.ForEach(_ => queue.SendText("end"));
                foreach (ChildProcess consumer in consumers)
                {
                    string[] lines = consumer.RemainingLinesUntilExit();
                    Assert.Contains("ended", lines);
                    consumerLines.AddRange(lines.Where(l => l.StartsWith("got ", StringComparison.Ordinal)));
                    done.Add(consumer);
                }

                // The queue still works, and holds nothing left over.
                Assert.Equal(0, queue.MessageCount);
                queue.SendText("after");
                Assert.Equal("after", queue.Receive(1, NoWait, CancellationToken.None).Single().GetText());
            }

            done.ForEach(p => p.Dispose());
            var received = consumerLines.Select(Parse).ToList();
            Assert.Equal(received.Count, received.Select(m => (m.Tag, m.Index)).Distinct().Count());
            int lost = 0;
            foreach ((string tag, List<string> lines) in producerLines)
            {
                var confirmed = lines.Where(l => l.StartsWith("sent ", StringComparison.Ordinal)).Select(l => int.Parse(l.Split(' ')[1], CultureInfo.InvariantCulture)).ToHashSet();
                var got = received.Where(m => m.Tag == tag).ToList();
                lost += confirmed.Count(i => !got.Any(m => m.Index == i));

                // A killed producer's message in flight may arrive unconfirmed: only the one after its last confirmation.
                int next = confirmed.Count == 0 ? 0 : confirmed.Max() + 1;
                Assert.All(got, m => Assert.True(confirmed.Contains(m.Index) || m.Index == next, $"{tag} {m.Index} arrived but was never sent"));
                long[] versions = got.OrderBy(m => m.Index).Select(m => m.Version).ToArray();
                Assert.True(versions.Zip(versions.Skip(1), (a, b) => a < b).All(x => x), $"{tag}'s messages left the queue out of order");
            }

            _output.WriteLine($"{consumerKills} consumers and {producerKills} producers killed; {received.Count} messages received, {lost} confirmed messages lost.");
            Assert.True(lost <= consumerKills, $"{lost} confirmed messages were lost, more than the {consumerKills} killed consumers could have been holding");
        }

        private static Message Parse(string line)
        {
            // "got <tag> <index> <version>"
            string[] words = line.Split(' ');
            return new Message(words[1], int.Parse(words[2], CultureInfo.InvariantCulture), long.Parse(words[3], CultureInfo.InvariantCulture));
        }

        private sealed record Message(string Tag, int Index, long Version);
    }
}
