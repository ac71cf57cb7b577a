using System.Text;
using BenchmarkDotNet.Attributes;
using PSSharedMemory.Engine;

namespace PSSharedMemory.Benchmarks
{
    /// <summary>
    /// A 100-character string: WriteText + ReadText with the segment kept open, against encoding and
    /// decoding it as UTF-8 through a buffer (the work any text transport has to do).
    /// </summary>
    [MemoryDiagnoser]
    public class TextBenchmarks
    {
        private readonly byte[] _buffer = new byte[1024];
        private readonly string _text = new string('x', 90) + "0123456789";
        private SharedMemorySegment? _segment;
        private string _name = string.Empty;

        [GlobalSetup]
        public void Setup()
        {
            _name = SegmentNames.Unique("text");
            _segment = SegmentNames.CreateTouched(_name, 4096);
            _segment.WriteText(_text);
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            _segment?.Dispose();
            SharedMemorySegment.Remove(_name);
        }

        [Benchmark(Baseline = true, Description = "UTF-8 encode+decode")]
        public string EncodeDecode()
        {
            int count = Encoding.UTF8.GetBytes(_text, 0, _text.Length, _buffer, 0);
            return Encoding.UTF8.GetString(_buffer, 0, count);
        }

        [Benchmark(Description = "WriteText+ReadText")]
        public string WriteTextReadText()
        {
            _segment!.WriteText(_text);
            return _segment.ReadText(out _, out _);
        }
    }
}
