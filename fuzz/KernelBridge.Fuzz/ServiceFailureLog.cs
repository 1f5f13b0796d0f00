using Microsoft.Extensions.Logging;

namespace KernelBridge.Fuzz;

/// <summary>
/// The logger the harness gives the kernel: silent, except that it keeps every exception the
/// kernel logs at Error or above (a service that threw past its own checks and was caught by the
/// connection's guard). A bug check (a driver's fault, isolated by the I/O manager) is not one.
/// The harness turns those into crashes.
/// </summary>
public sealed class ServiceFailureLog : ILogger, ILoggerFactory, ILoggerProvider
{
    /// <summary>The kernel's bug-check record (Ex/BugCheck.cs): a driver fault, contained.</summary>
    private const int BugCheckEventId = 900;

    private readonly Lock _gate = new();
    private readonly List<(string Message, Exception Exception)> _failures = [];

    /// <summary>Takes the failures logged since the last call.</summary>
    public IReadOnlyList<(string Message, Exception Exception)> Drain()
    {
        lock (_gate)
        {
            var taken = _failures.ToArray();
            _failures.Clear();
            return taken;
        }
    }

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel < LogLevel.Error || exception is null || eventId.Id == BugCheckEventId) return;
        lock (_gate) _failures.Add((formatter(state, exception), exception));
    }

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }
}
