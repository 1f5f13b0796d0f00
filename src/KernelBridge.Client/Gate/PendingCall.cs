using System.Buffers;
using KernelBridge.Abi;

namespace KernelBridge.Client.Gate;

/// <summary>
/// A call waiting for its result. The reader thread fills it and wakes the caller. Pooled per
/// connection; the reply's bytes sit in a rented buffer until the caller has taken them.
/// </summary>
internal sealed class PendingCall : IDisposable
{
    private readonly ManualResetEventSlim _done = new(false, spinCount: 100);
    private byte[] _payload = [];

    public uint Sequence;
    public NtStatus Status;

    /// <summary>For I/O calls: the memory the reader thread writes before waking the caller.</summary>
    public IoTarget? Target;

    /// <summary>For calls nobody blocks on (async): run by the reader thread once the result is in.</summary>
    public Action<PendingCall>? Continuation;
    public int PayloadLength;

    public ReadOnlySpan<byte> Payload => _payload.AsSpan(0, PayloadLength);

    public void Reset(uint sequence)
    {
        Sequence = sequence;
        Status = default;
        PayloadLength = 0;
        Target = null;
        Continuation = null;
        _done.Reset();
    }

    /// <summary>Reader thread: store the result and wake the caller.</summary>
    public void Complete(NtStatus status, ReadOnlySpan<byte> payload)
    {
        if (_payload.Length < payload.Length)
        {
            if (_payload.Length > 0) ArrayPool<byte>.Shared.Return(_payload);
            _payload = ArrayPool<byte>.Shared.Rent(payload.Length);
        }
        payload.CopyTo(_payload);
        PayloadLength = payload.Length;
        Status = status;
        _done.Set();
        Continuation?.Invoke(this);
    }

    public void Wait() => _done.Wait();

    public void Dispose() => _done.Dispose();

    /// <summary>Gives back a large buffer so one big transfer does not pin memory forever.</summary>
    public void Trim()
    {
        if (_payload.Length > 256 * 1024)
        {
            ArrayPool<byte>.Shared.Return(_payload);
            _payload = [];
        }
    }
}
