using System.Runtime.InteropServices;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;

namespace KernelBridge.Client;

/// <summary>A handle to a kernel object, closed with NtClose on the connection that opened it.</summary>
public sealed class KernelHandle : SafeHandle
{
    public KernelHandle(nint handle, GateClient gate) : base(0, ownsHandle: true)
    {
        Gate = gate;
        SetHandle(handle);
    }

    public GateClient Gate { get; }

    public override bool IsInvalid => handle == 0 || handle == -1;

    /// <summary>The raw value, for Ntdll and Kernel32 calls made on <see cref="Gate"/>.</summary>
    public nint Value => handle;

    protected override bool ReleaseHandle()
    {
        if (!Gate.IsConnected) return true;
        return Ntdll.NtClose(Gate, handle).IsSuccess;
    }
}
