using System;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.IO.Pipes;
using System.Threading;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Benchmarks
{
    /// <summary>
    /// Queue throughput across processes: this process receives what a copy of this program sends, N
    /// messages of 100 bytes, one producer and one consumer. The baseline in the same run is a .NET named
    /// pipe between the same two processes carrying the same messages (each framed with a 4-byte length,
    /// one Write per message, as a message protocol over a pipe needs). Both sides stop the clock when the
    /// last message has been received; the figure is messages per second.
    /// </summary>
    internal static class QueueThroughput
    {
        private const int MessageLength = 100;

        public static int Run(int messages, int rounds)
        {
            Console.WriteLine($"Queue throughput: {messages} messages of {MessageLength} bytes, one producer process, one consumer (this process); {rounds} rounds, alternating.");
            for (int round = 1; round <= rounds; round++)
            {
                double queue = RunQueue(messages);
                double pipe = RunPipe(messages);
                Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                    "round {0}: queue {1:N0} msg/s, named pipe {2:N0} msg/s, queue / pipe = {3:0.00}", round, queue, pipe, queue / pipe));
            }

            return 0;
        }

        public static int RunChild(string mode, string target, int messages)
        {
            var payload = new byte[MessageLength];
            if (mode == "queue")
            {
                using SharedMemorySegment queue = SharedMemorySegment.Open(target);
                for (int i = 0; i < messages; i++)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(payload, i);
                    queue.Send(payload, 0, payload.Length, SharedMemoryContentType.Bytes, TimeSpan.FromSeconds(60), CancellationToken.None);
                }

                return 0;
            }

            using var pipe = new NamedPipeClientStream(".", target, PipeDirection.Out);
            pipe.Connect(30_000);
            var frame = new byte[4 + MessageLength];
            BinaryPrimitives.WriteInt32LittleEndian(frame, MessageLength);
            for (int i = 0; i < messages; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(4), i);
                pipe.Write(frame, 0, frame.Length);
            }

            pipe.Flush();
            return 0;
        }

        private static double RunQueue(int messages)
        {
            string name = SegmentNames.Unique("queue");
            using SharedMemorySegment queue = SharedMemorySegment.Create(name, 64 * 1024, new SharedMemoryOptions { Kind = SharedMemorySegmentKind.Queue });
            try
            {
                using Process child = ChildProgram.Start(false, "queue-child", "queue", name, messages.ToString(CultureInfo.InvariantCulture));
                long start = 0;
                int received = 0;
                while (received < messages)
                {
                    // Takes whatever has arrived, up to 256 at once: one lock for the lot.
                    foreach (SharedMemoryContent message in queue.Receive(256, TimeSpan.FromSeconds(60), CancellationToken.None))
                    {
                        if (received == 0)
                        {
                            start = Stopwatch.GetTimestamp();
                        }

                        if (BinaryPrimitives.ReadInt32LittleEndian(message.Data) != received)
                        {
                            throw new InvalidOperationException($"Message {received} arrived out of order.");
                        }

                        received++;
                    }
                }

                long end = Stopwatch.GetTimestamp();
                child.WaitForExit();
                return (messages - 1) * (double)Stopwatch.Frequency / (end - start);
            }
            finally
            {
                SharedMemorySegment.Remove(name);
            }
        }

        private static double RunPipe(int messages)
        {
            string name = "pssm-bench-" + Guid.NewGuid().ToString("N").Substring(0, 12);
            using var server = new NamedPipeServerStream(name, PipeDirection.In, 1, PipeTransmissionMode.Byte);
            using Process child = ChildProgram.Start(false, "queue-child", "pipe", name, messages.ToString(CultureInfo.InvariantCulture));
            server.WaitForConnection();
            var frame = new byte[4 + MessageLength];
            long start = 0;
            for (int received = 0; received < messages; received++)
            {
                ReadExactly(server, frame, 4);
                int length = BinaryPrimitives.ReadInt32LittleEndian(frame);
                ReadExactly(server, frame, length);
                if (received == 0)
                {
                    start = Stopwatch.GetTimestamp();
                }

                if (BinaryPrimitives.ReadInt32LittleEndian(frame) != received)
                {
                    throw new InvalidOperationException($"Message {received} arrived out of order.");
                }
            }

            long end = Stopwatch.GetTimestamp();
            child.WaitForExit();
            return (messages - 1) * (double)Stopwatch.Frequency / (end - start);
        }

        private static void ReadExactly(Stream stream, byte[] buffer, int count)
        {
            int done = 0;
            while (done < count)
            {
                int read = stream.Read(buffer, done, count - done);
                if (read == 0)
                {
                    throw new EndOfStreamException();
                }

                done += read;
            }
        }

    }
}
