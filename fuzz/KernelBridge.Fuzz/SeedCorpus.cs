using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Drivers.Echo;
using static KernelBridge.Fuzz.SeedFrames;

namespace KernelBridge.Fuzz;

/// <summary>
/// The seed corpus (fuzz/corpus): one all-zero request of every service, so each service's own
/// checks are a mutation away, and short sessions of valid calls — create, use and close — that
/// reach past the checks into the objects and drivers. A fresh client's first handles are 4, 8, 12.
/// </summary>
public static class SeedCorpus
{
    private const long First = 4, Second = 8;
    private const long CurrentProcess = -1;
    private const uint AllAccess = 0x001F0003, GenericReadWrite = 0xC0000000 | 0x00100000;
    private const uint CaseInsensitive = 0x40;
    private const ulong IoStatusBlock = 0x1000, InputBuffer = 0x2000, OutputBuffer = 0x3000;

    /// <summary>Every seed, by file name.</summary>
    public static IEnumerable<(string Name, byte[] Bytes)> All()
    {
        foreach (var number in SyscallTable.All)
            yield return ($"service-{(ushort)number:D3}-{number}", ZeroCall(number));
        foreach (var session in Sessions()) yield return session;
    }

    /// <summary>Writes every seed into <paramref name="directory"/> (replacing what is there).</summary>
    public static int Write(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var old in Directory.EnumerateFiles(directory)) File.Delete(old);
        var count = 0;
        foreach (var (name, bytes) in All())
        {
            File.WriteAllBytes(Path.Combine(directory, name), bytes);
            count++;
        }
        return count;
    }

    private static IEnumerable<(string, byte[])> Sessions()
    {
        var eventName = Name(@"\BaseNamedObjects\fuzz-event");
        yield return ("session-event", Join(
            Call(Syscall.NtCreateEvent, 1, new NtCreateEventRequest(0, AllAccess, 0, 0, 0, 0, 0)),
            Call(Syscall.NtSetEvent, 2, new NtSetEventRequest(First)),
            Call(Syscall.NtWaitForSingleObject, 3, new NtWaitForSingleObjectRequest(First, 0, 0, 1)),
            Call(Syscall.NtResetEvent, 4, new NtResetEventRequest(First)),
            Call(Syscall.NtQueryEvent, 5, new NtQueryEventRequest(First)),
            Call(Syscall.NtClose, 6, new NtCloseRequest(First))));
        yield return ("session-named-event", Join(
            Call(Syscall.NtCreateEvent, 1, new NtCreateEventRequest(0, AllAccess, CaseInsensitive, 1, 1, (uint)eventName.Length, 0), eventName),
            Call(Syscall.NtOpenEvent, 2, new NtOpenEventRequest(0, AllAccess, CaseInsensitive, (uint)eventName.Length, 0), eventName),
            Call(Syscall.NtPulseEvent, 3, new NtPulseEventRequest(Second))));
        yield return ("session-pending-wait", Join(
            Call(Syscall.NtCreateEvent, 1, new NtCreateEventRequest(0, AllAccess, 0, 1, 0, 0, 0)),
            Call(Syscall.NtWaitForSingleObject, 2, new NtWaitForSingleObjectRequest(First, 0, 0, 0))));
        yield return ("session-wait-multiple", Join(
            Call(Syscall.NtCreateEvent, 1, new NtCreateEventRequest(0, AllAccess, 0, 0, 0, 0, 0)),
            Call(Syscall.NtCreateEvent, 2, new NtCreateEventRequest(0, AllAccess, 0, 0, 1, 0, 0)),
            Call(Syscall.NtWaitForMultipleObjects, 3, new NtWaitForMultipleObjectsRequest(2, 1, 0, 1, -10_000, 2, 0), Longs(First, Second))));
        yield return ("session-semaphore", Join(
            Call(Syscall.NtCreateSemaphore, 1, new NtCreateSemaphoreRequest(0, AllAccess, 0, 0, 2, 0, 0)),
            Call(Syscall.NtReleaseSemaphore, 2, new NtReleaseSemaphoreRequest(First, 1, 0)),
            Call(Syscall.NtQuerySemaphore, 3, new NtQuerySemaphoreRequest(First)),
            Call(Syscall.NtWaitForSingleObject, 4, new NtWaitForSingleObjectRequest(First, 0, 0, 1))));
        yield return ("session-mutant", Join(
            Call(Syscall.NtCreateMutant, 1, new NtCreateMutantRequest(0, AllAccess, 0, 1, 0, 0)),
            Call(Syscall.NtQueryMutant, 2, new NtQueryMutantRequest(First)),
            Call(Syscall.NtReleaseMutant, 3, new NtReleaseMutantRequest(First))));
        yield return ("session-timer", Join(
            Call(Syscall.NtCreateTimer, 1, new NtCreateTimerRequest(0, AllAccess, 0, 0, 0, 0)),
            Call(Syscall.NtSetTimer, 2, new NtSetTimerRequest(First, -10_000, 0, 0, 0, 0)),
            Call(Syscall.NtWaitForSingleObject, 3, new NtWaitForSingleObjectRequest(First, -50_000, 0, 1)),
            Call(Syscall.NtCancelTimer, 4, new NtCancelTimerRequest(First))));
        yield return ("session-delay", Join(
            Call(Syscall.NtDelayExecution, 1, new NtDelayExecutionRequest(0, 1, -10_000)),
            Call(Syscall.NtTestAlert, 2, new NtTestAlertRequest(0))));
        var echo = Name(EchoInterface.DeviceName);
        var hello = "hello"u8.ToArray();
        yield return ("session-echo-ioctl", Join(
            Call(Syscall.NtCreateFile, 1, new NtCreateFileRequest(0, GenericReadWrite, CaseInsensitive, 0, 3, 1, 0, (uint)echo.Length, 0), echo),
            Call(Syscall.NtDeviceIoControlFile, 2, new NtDeviceIoControlFileRequest(First, 0, 0, 0, IoStatusBlock, InputBuffer, OutputBuffer,
                EchoInterface.IOCTL_ECHO_BUFFERED.Value, (uint)hello.Length, 16, (uint)hello.Length, 0, IoRequestFlags.None), hello),
            Call(Syscall.NtQueryInformationFile, 3, new NtQueryInformationFileRequest(First, IoStatusBlock, OutputBuffer, 64, 5)),
            Call(Syscall.NtClose, 4, new NtCloseRequest(First))));
        var nul = Name(@"\Device\Null");
        yield return ("session-null-read-write", Join(
            Call(Syscall.NtCreateFile, 1, new NtCreateFileRequest(0, GenericReadWrite, CaseInsensitive, 0, 3, 1, 0, (uint)nul.Length, 0), nul),
            Call(Syscall.NtWriteFile, 2, new NtWriteFileRequest(First, 0, 0, 0, IoStatusBlock, InputBuffer, 0, (uint)hello.Length, 0, IoRequestFlags.HasByteOffset,
                (uint)hello.Length), hello),
            Call(Syscall.NtReadFile, 3, new NtReadFileRequest(First, 0, 0, 0, IoStatusBlock, OutputBuffer, 0, 16, 0, IoRequestFlags.HasByteOffset, 0)),
            Call(Syscall.NtCancelIoFile, 4, new NtCancelIoFileRequest(First))));
        yield return ("session-section", Join(
            Call(Syscall.NtCreateSection, 1, new NtCreateSectionRequest(0, 0x000F001F, 0, 65536, 0x04, 0x08000000, 0, 0, 0)),
            Call(Syscall.NtMapViewOfSection, 2, new NtMapViewOfSectionRequest(First, CurrentProcess, 0, 0, 0, 0, 0, SectionInherit.ViewUnmap, 0, 0x04, 0)),
            Call(Syscall.NtQuerySection, 3, new NtQuerySectionRequest(First, SectionInformationClass.SectionBasicInformation, 24)),
            Call(Syscall.NtUnmapViewOfSection, 4, new NtUnmapViewOfSectionRequest(CurrentProcess, 0x2000_0000_0000))));
        var device = Name(@"\Device");
        yield return ("session-directory", Join(
            Call(Syscall.NtOpenDirectoryObject, 1, new NtOpenDirectoryObjectRequest(0, 0x0003, CaseInsensitive, (uint)device.Length, 0), device),
            Call(Syscall.NtQueryDirectoryObject, 2, new NtQueryDirectoryObjectRequest(First, OutputBuffer, 4096, 0, 1, 0)),
            Call(Syscall.NtQueryObject, 3, new NtQueryObjectRequest(First, OutputBuffer, 1, 1024))));
        var link = Name(EchoInterface.DosName);
        yield return ("session-symbolic-link", Join(
            Call(Syscall.NtOpenSymbolicLinkObject, 1, new NtOpenSymbolicLinkObjectRequest(0, 0x0001, CaseInsensitive, (uint)link.Length, 0), link),
            Call(Syscall.NtQuerySymbolicLinkObject, 2, new NtQuerySymbolicLinkObjectRequest(First, 512, 0))));
        yield return ("session-io-completion", Join(
            Call(Syscall.NtCreateIoCompletion, 1, new NtCreateIoCompletionRequest(0, 0x001F0003, 0, 0, 0, 0)),
            Call(Syscall.NtSetIoCompletion, 2, new NtSetIoCompletionRequest(First, 1, 2, 0, 0, 3)),
            Call(Syscall.NtQueryIoCompletion, 3, new NtQueryIoCompletionRequest(First)),
            Call(Syscall.NtRemoveIoCompletion, 4, new NtRemoveIoCompletionRequest(First, 1, 0, 1, 0, 0))));
        yield return ("session-duplicate", Join(
            Call(Syscall.NtCreateEvent, 1, new NtCreateEventRequest(0, AllAccess, 0, 0, 0, 0, 0)),
            Call(Syscall.NtDuplicateObject, 2, new NtDuplicateObjectRequest(CurrentProcess, First, CurrentProcess, 0, 0, 2, 0)),
            Call(Syscall.NtSetInformationObject, 3, new NtSetInformationObjectRequest(Second, 4, 0, 1, 0)),
            Call(Syscall.NtClose, 4, new NtCloseRequest(Second))));
        yield return ("session-kernel-queries", Join(
            Call(Syscall.KbQueryKernelState, 1, new KbQueryKernelStateRequest(0)),
            Call(Syscall.KbQueryDrivers, 2, new KbQueryDriversRequest(0))));
        yield return ("session-thread", Join(
            Call(Syscall.NtOpenThread, 1, new NtOpenThreadRequest(0x001F03FF, 0, ThreadId)),
            Call(Syscall.NtQueueApcThread, 2, new NtQueueApcThreadRequest(First, 0x4000, 1, 2, 3)),
            Call(Syscall.NtTestAlert, 3, new NtTestAlertRequest(0))));
        var className = Name("FuzzClass");
        yield return ("session-user-messages", Join(
            Call(Syscall.NtUserRegisterClassEx, 1, new NtUserRegisterClassExRequest(0, (uint)className.Length), className),
            Call(Syscall.NtUserPostThreadMessage, 2, new NtUserPostThreadMessageRequest(ThreadId, 0x0400, 1, 2)),
            Call(Syscall.NtUserGetQueueStatus, 3, new NtUserGetQueueStatusRequest(0xFF, 0)),
            Call(Syscall.NtUserPeekMessage, 4, new NtUserPeekMessageRequest(0, 0, 0, 1, 0, 0, 0)),
            Call(Syscall.NtUserPostQuitMessage, 5, new NtUserPostQuitMessageRequest(0, 0)),
            Call(Syscall.NtUserQueryState, 6, new NtUserQueryStateRequest(0))));
        yield return ("session-own-hello", Join(
            ConnectionHarness.Hello,
            Call(Syscall.KbQueryKernelState, 1, new KbQueryKernelStateRequest(0))));
        yield return ("session-pipelined-same-sequence", Join(
            Call(Syscall.NtCreateEvent, 7, new NtCreateEventRequest(0, AllAccess, 0, 0, 0, 0, 0)),
            Call(Syscall.NtCreateEvent, 7, new NtCreateEventRequest(0, AllAccess, 0, 0, 0, 0, 0)),
            Call(Syscall.NtClose, 7, new NtCloseRequest(First))));
    }

    private static byte[] Join(params byte[][] frames) => [.. frames.SelectMany(f => f)];

    private static byte[] Longs(params long[] values)
    {
        var bytes = new byte[values.Length * sizeof(long)];
        for (var i = 0; i < values.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * sizeof(long)), values[i]);
        return bytes;
    }
}
