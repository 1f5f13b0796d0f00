using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform;
using Microsoft.Win32.SafeHandles;

namespace KernelBridge.Kernel.Gate.Shared;

/// <summary>
/// One client's syscall area, as the kernel holds it: a sealed memfd with a control page, the submission ring
/// (the client's threads produce, the kernel reads) and the completion ring (the kernel writes,
/// the client reads). The kernel creates and initialises both before the client sees the
/// descriptor, so the geometry each side attaches with is the kernel's; nothing the client writes
/// into the headers afterwards changes it.
/// </summary>
internal sealed unsafe class SyscallArea : IDisposable
{
    private readonly SharedMemory _memory;

    private SyscallArea(SharedMemory memory, RingReader submissions, RingWriter completions)
    {
        _memory = memory;
        Submissions = submissions;
        Completions = completions;
    }

    public RingReader Submissions { get; }

    public RingWriter Completions { get; }

    /// <summary>The control page's words (the kernel writes, the client reads).</summary>
    public SyscallAreaControl* Control => (SyscallAreaControl*)_memory.Pointer;

    /// <summary>The memfd, passed to the client with SCM_RIGHTS.</summary>
    public SafeFileHandle Descriptor => _memory.Descriptor;

    public static int SubmissionRingLength => SyscallAreaLayout.SubmissionRingLength;

    public static int CompletionRingLength => SyscallAreaLayout.CompletionRingLength;

    public static SyscallArea Create(int clientProcessId)
    {
        var memory = SharedMemory.Create($"kbridge-syscalls-{clientProcessId}",
            SyscallAreaLayout.AreaLength(SubmissionRingLength, CompletionRingLength));
        try
        {
            var submissionRegion = memory.Pointer + SyscallAreaLayout.SubmissionOffset;
            var completionRegion = memory.Pointer + SyscallAreaLayout.CompletionOffset(SubmissionRingLength);
            RingLayout.Initialize(submissionRegion, SubmissionRingLength, new RingOptions(SyscallAreaLayout.SubmissionCapacity,
                RingLayout.MaxPayloadFor(SyscallAreaLayout.SubmissionCapacity), MultiProducer: true));
            // One producer: the kernel's sends to this client are serialised by its completion channel.
            RingLayout.Initialize(completionRegion, CompletionRingLength, new RingOptions(SyscallAreaLayout.CompletionCapacity,
                RingLayout.MaxPayloadFor(SyscallAreaLayout.CompletionCapacity)));
            RingReader.TryAttach(submissionRegion, SubmissionRingLength, FutexDoorbell.Instance, out var submissions);
            RingWriter.TryAttach(completionRegion, CompletionRingLength, FutexDoorbell.Instance, out var completions);
            return new SyscallArea(memory, submissions!, completions!);
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    /// <summary>Unmaps the area and closes the descriptor: only once nothing can touch the rings any more.</summary>
    public void Dispose() => _memory.Dispose();
}
