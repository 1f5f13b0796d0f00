using System.Diagnostics;
using KernelBridge.Client.Gate;

namespace KernelBridge.Tests.Reliability;

/// <summary>
/// A call blocked in the kernel on a thread of its own (a parked IOCTL, a wait, a port GetMessage, a
/// SendMessage, a loop of IOCTLs), on one connection; when it returns it keeps what it returned and
/// when (a Stopwatch timestamp), so the test can tell how long after the kernel's death it came back.
/// </summary>
internal sealed class BlockedClient : IDisposable
{
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _done = new();

    public BlockedClient(string kind, GateClient gate, Func<string> call)
    {
        Kind = kind;
        Gate = gate.UsesSharedMemory ? "shm" : "socket";
        _thread = new Thread(() =>
        {
            using (GateClient.Use(gate))
            {
                try
                {
                    Result = call();
                }
                catch (Exception e)
                {
                    Result = $"{e.GetType().Name}: {e.Message}";
                }
            }
            ReturnedAt = Stopwatch.GetTimestamp();
            _done.Set();
        }) { IsBackground = true, Name = $"blocked {kind}" };
        _thread.Start();
    }

    public string Kind { get; }
    public string Gate { get; }
    public string? Result { get; private set; }
    public long ReturnedAt { get; private set; }
    public bool Returned => _done.IsSet;

    public bool Wait(TimeSpan timeout) => _done.Wait(timeout);

    public TimeSpan LatencyAfter(long killedAt) => Stopwatch.GetElapsedTime(killedAt, ReturnedAt);

    public override string ToString() => $"{Kind} on the {Gate} gate: {Result ?? "(still blocked)"}";

    public void Dispose() => _done.Dispose();
}
