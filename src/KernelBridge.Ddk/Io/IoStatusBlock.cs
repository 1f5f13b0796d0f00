using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>IO_STATUS_BLOCK: the final status of a request and its Information (bytes moved, mostly).</summary>
public struct IoStatusBlock
{
    public NtStatus Status;
    public long Information;

    public override readonly string ToString() => $"{{{Status}, {Information}}}";
}
