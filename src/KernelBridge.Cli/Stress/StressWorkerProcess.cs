using System.Diagnostics;
using System.Globalization;

namespace KernelBridge.Cli.Stress;

/// <summary>
/// The runner's handle on one worker process: it reads the worker's lines on a thread of its own,
/// keeps the latest progress and the final report, and kills the worker by its pid on dispose.
/// </summary>
internal sealed class StressWorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly Thread _reader;
    private readonly ManualResetEventSlim _ready = new();
    private readonly ManualResetEventSlim _done = new();
    private readonly List<string> _errors = [];
    private readonly Dictionary<StressOperation, (long Done, long Errors, long Busy)> _operations = [];
    private long _progressOperations;
    private long _progressErrors;

    private StressWorkerProcess(Process process, int index)
    {
        _process = process;
        Index = index;
        _reader = new Thread(Read) { IsBackground = true, Name = $"stress worker {index} reader" };
        _reader.Start();
    }

    public int Index { get; }
    public int Id => _process.Id;
    public LatencyHistogram Latency { get; } = new();
    public long Operations => Interlocked.Read(ref _progressOperations);
    public long Errors => Interlocked.Read(ref _progressErrors);
    public bool IsDone => _done.IsSet;
    public bool HasExited => _process.HasExited;
    public IReadOnlyList<string> ErrorReasons => _errors;
    public IReadOnlyDictionary<StressOperation, (long Done, long Errors, long Busy)> PerOperation => _operations;

    public static StressWorkerProcess Start(int index, IReadOnlyList<string> arguments)
    {
        var (program, prefix) = SelfLaunch.Resolve() ?? throw new InvalidOperationException("cannot tell which program this is, to start a stress worker");
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
        };
        foreach (var part in prefix) start.ArgumentList.Add(part);
        foreach (var part in arguments) start.ArgumentList.Add(part);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program} for stress worker {index}");
        return new StressWorkerProcess(process, index);
    }

    public bool WaitReady(TimeSpan timeout) => _ready.Wait(timeout) && !_process.HasExited;

    public bool WaitDone(TimeSpan timeout) => _done.Wait(timeout);

    public void Send(string line)
    {
        try
        {
            _process.StandardInput.WriteLine(line);
            _process.StandardInput.Flush();
        }
        catch (IOException)
        {
            // It has gone; the report says so.
        }
    }

    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    private void Read()
    {
        while (_process.StandardOutput.ReadLine() is { } line)
        {
            var parts = line.Split(' ', 2);
            var rest = parts.Length > 1 ? parts[1] : "";
            switch (parts[0])
            {
                case StressProtocol.Ready:
                    _ready.Set();
                    break;
                case StressProtocol.Progress or StressProtocol.Done when Numbers(rest) is [var operations, var errors]:
                    Interlocked.Exchange(ref _progressOperations, operations);
                    Interlocked.Exchange(ref _progressErrors, errors);
                    if (parts[0] == StressProtocol.Done) _done.Set();
                    break;
                case StressProtocol.Operation when rest.Split(' ', 2) is [var name, var counts] && Enum.TryParse<StressOperation>(name, out var operation)
                    && Numbers(counts) is [var done, var failed, var busy]:
                    _operations[operation] = (done, failed, busy);
                    break;
                case StressProtocol.Error:
                    _errors.Add(rest);
                    break;
                case StressProtocol.Latency:
                    if (!Latency.TryAddEncoded(rest)) _errors.Add($"unreadable latency line: {rest}");
                    break;
                default:
                    _errors.Add($"unexpected output: {line}");
                    break;
            }
        }
        _ready.Set();
    }

    private static long[] Numbers(string text)
    {
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var numbers = new long[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i])) return [];
        return numbers;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: false);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
        _reader.Join(TimeSpan.FromSeconds(5));
        _process.Dispose();
    }
}
