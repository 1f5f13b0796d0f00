using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

/// <summary>KbQueryKernelMemory: the kernel process's memory — resident set, managed heap and collections — as `kbridge fuzz` compares them before and after.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(215)]
public partial record struct KbQueryKernelMemoryRequest(uint Reserved) : IRequest<KbKernelMemoryReply>;

/// <summary>
/// The kernel's memory now: resident bytes, the managed heap's live bytes (as of now, and at the
/// end of the last collection), what the collector has committed, all bytes ever allocated, and
/// how many collections of each generation have run.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct KbKernelMemoryReply(
    long ResidentBytes, long ManagedHeapBytes, long HeapAfterLastCollectionBytes, long CommittedBytes, long AllocatedBytes,
    int Gen0Collections, int Gen1Collections, int Gen2Collections, int Reserved);
