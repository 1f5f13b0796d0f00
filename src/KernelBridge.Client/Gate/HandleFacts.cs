using System.Collections.Concurrent;

namespace KernelBridge.Client.Gate;

/// <summary>
/// What this process learned about its handles when it opened them: the device's DO_* flags.
/// A read on a buffered device need not ship the caller's buffer to the kernel.
/// </summary>
internal sealed class HandleFacts
{
    private readonly ConcurrentDictionary<nint, uint> _deviceFlags = new();

    /// <summary>Kept beside the DO_* flags (a bit no device flag uses): the file was opened for synchronous I/O.</summary>
    public const uint SynchronousFile = 0x8000_0000;

    public void RememberDeviceFlags(nint handle, uint flags) => _deviceFlags[handle] = flags;

    public bool TryGetDeviceFlags(nint handle, out uint flags) => _deviceFlags.TryGetValue(handle, out flags);

    /// <summary>A duplicate names the same file object: it inherits what the source handle knew.</summary>
    public void Copy(nint from, nint to)
    {
        if (_deviceFlags.TryGetValue(from, out var flags)) _deviceFlags[to] = flags;
    }

    public void Forget(nint handle) => _deviceFlags.TryRemove(handle, out _);
}
