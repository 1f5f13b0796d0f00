using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Async;

/// <summary>
/// Wine's test_return_status on an OVERLAPPED handle (dlls/ntoskrnl.exe/tests/ntoskrnl.c
/// do_return_status, issue3-facts section 1b). The driver marks the IRP pending or not (P), writes
/// its output, sets IoStatus = {S, 3}, completes the IRP inside dispatch and returns R. Then:
/// NtDeviceIoControlFile returns R exactly; if D = P || !NT_ERROR(S) the completion is delivered
/// (IOSB = {S, 3}, the event signalled, a port packet {123, 456, S, 3}, or one APC), otherwise
/// nothing is touched (the event, pre-set, was reset at the start and stays so; no packet, no APC).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class OverlappedReturnStatusTests
{
    /// <summary>Wine's values for R and S.</summary>
    private static readonly uint[] Values =
        [0, W.STATUS_PENDING, W.STATUS_TIMEOUT, 0x0EADBEEF, 0x4EADBEEF, W.STATUS_BUFFER_OVERFLOW, 0x8EADBEEF, W.STATUS_NOT_IMPLEMENTED, 0xCEADBEEF];

    public static TheoryData<TransferMethod, PendMode, uint> Cases()
    {
        var data = new TheoryData<TransferMethod, PendMode, uint>();
        foreach (var method in new[] { TransferMethod.METHOD_BUFFERED, TransferMethod.METHOD_OUT_DIRECT, TransferMethod.METHOD_NEITHER })
            foreach (var pend in new[] { PendMode.None, PendMode.MarkPendingCompleteInline })
                foreach (var s in Values)
                    data.Add(method, pend, s);
        return data;
    }

    /// <summary>The caller's 7-byte buffer after the call (1a/1b): buffered copies Information (3) bytes back unless NT_ERROR(S); direct and neither always show the driver's writes.</summary>
    private static string ExpectedOutput(TransferMethod method, uint s) =>
        method != TransferMethod.METHOD_BUFFERED ? "gggggg\\0" : !W.NT_ERROR(s) ? "gggdef\\0" : "abcdef\\0";

    [Theory]
    [MemberData(nameof(Cases))]
    public void With_an_event_and_a_completion_port(TransferMethod method, PendMode pend, uint s)
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var port = AsyncTest.NewPort();
        var ev = AsyncTest.NewEvent();
        var failures = new List<string>();
        try
        {
            AsyncTest.Associate(file, port);
            foreach (var r in Values)
            {
                // R == STATUS_PENDING without IoMarkIrpPending is illegal (Wine skips it).
                if (r == W.STATUS_PENDING && pend == PendMode.None) continue;
                var label = $"R={W.Hex(r)} S={W.Hex(s)} P={pend} {method}";
                var delivered = pend != PendMode.None || !W.NT_ERROR(s);
                using var iosb = new Native<IO_STATUS_BLOCK>();
                using var output = NativeBytes.Abcdef();
                iosb.Value = new IO_STATUS_BLOCK { Status = AsyncTest.SentinelStatus, Information = AsyncTest.SentinelInformation };
                Kernel32.SetEvent(ev);

                var returned = AsyncTest.NtReturnIoctl(file, ev, 0, AsyncTest.ApcContext, iosb.Pointer, method, AsyncTest.Request(r, s, 3, pend),
                    output.Pointer, (uint)output.Length);
                if (returned != r) failures.Add($"{label}: returned {W.Hex(returned)}, expected R");
                // A pended return delivers the completion after the call: wait for it.
                if (returned == W.STATUS_PENDING && !AsyncTest.WaitSignalled(ev, 10_000)) failures.Add($"{label}: the completion never signalled the event");

                if (delivered)
                {
                    if (!AsyncTest.IsSignalled(ev)) failures.Add($"{label}: event not signalled");
                    if ((uint)iosb.Value.Status != s || iosb.Value.Information != 3)
                        failures.Add($"{label}: IOSB {{{W.Hex((uint)iosb.Value.Status)}, {iosb.Value.Information}}}, expected {{S, 3}}");
                    var packet = AsyncTest.Remove(port, 5_000);
                    if (packet.Status != W.STATUS_SUCCESS || packet.Key != (nint)AsyncTest.Key || packet.ApcContext != AsyncTest.ApcContext
                        || (uint)packet.IosbStatus != s || packet.Information != 3)
                        failures.Add($"{label}: packet {packet}, expected {{123, 0x1C8, S, 3}}");
                }
                else
                {
                    if (AsyncTest.IsSignalled(ev)) failures.Add($"{label}: event signalled (it must have been reset and left alone)");
                    if (iosb.Value.Status != AsyncTest.SentinelStatus || iosb.Value.Information != AsyncTest.SentinelInformation)
                        failures.Add($"{label}: IOSB written {{{W.Hex((uint)iosb.Value.Status)}, {iosb.Value.Information}}}, expected untouched");
                }
                // No packet beyond the one expected.
                var extra = AsyncTest.Remove(port, 0);
                if (extra.Status != W.STATUS_TIMEOUT) failures.Add($"{label}: unexpected packet {extra}");
                // With an event, the file object is not the one signalled.
                if (AsyncTest.IsSignalled(file)) failures.Add($"{label}: the file object is signalled although an event was given");
                if (output.Text != ExpectedOutput(method, s)) failures.Add($"{label}: output \"{output.Text}\", expected \"{ExpectedOutput(method, s)}\"");
            }
        }
        finally
        {
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
            AsyncTest.Close(port);
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void With_an_APC_and_no_event(TransferMethod method, PendMode pend, uint s)
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var failures = new List<string>();
        var thread = Environment.CurrentManagedThreadId;
        try
        {
            foreach (var r in Values)
            {
                if (r == W.STATUS_PENDING && pend == PendMode.None) continue;
                var label = $"R={W.Hex(r)} S={W.Hex(s)} P={pend} {method}";
                var delivered = pend != PendMode.None || !W.NT_ERROR(s);
                AsyncTest.DrainApcs();
                using var iosb = new Native<IO_STATUS_BLOCK>();
                using var output = NativeBytes.Abcdef();
                iosb.Value = new IO_STATUS_BLOCK { Status = AsyncTest.SentinelStatus, Information = AsyncTest.SentinelInformation };

                var returned = AsyncTest.NtReturnIoctl(file, 0, ApcRecorder.Routine, AsyncTest.ApcContext, iosb.Pointer, method,
                    AsyncTest.Request(r, s, 3, pend), output.Pointer, (uint)output.Length);
                if (returned != r) failures.Add($"{label}: returned {W.Hex(returned)}, expected R");
                if (returned == W.STATUS_PENDING && !AsyncTest.WaitSignalled(file, 10_000)) failures.Add($"{label}: the completion never signalled the file");

                // Nothing runs before an alertable wait.
                if (ApcRecorder.Snapshot().Length != 0) failures.Add($"{label}: the APC ran outside an alertable wait");
                if (delivered)
                {
                    // No event: the file object is signalled.
                    if (!AsyncTest.IsSignalled(file)) failures.Add($"{label}: file not signalled");
                    if ((uint)iosb.Value.Status != s || iosb.Value.Information != 3)
                        failures.Add($"{label}: IOSB {{{W.Hex((uint)iosb.Value.Status)}, {iosb.Value.Information}}}, expected {{S, 3}}");
                    var first = Kernel32.SleepEx(0, true);
                    if (first != W.WAIT_IO_COMPLETION) failures.Add($"{label}: SleepEx(0, TRUE) returned {W.Hex(first)}, expected WAIT_IO_COMPLETION");
                    var calls = ApcRecorder.Snapshot();
                    if (calls.Length != 1) failures.Add($"{label}: {calls.Length} APC calls, expected exactly one");
                    else
                    {
                        var call = calls[0];
                        if (call.ApcContext != AsyncTest.ApcContext || call.IoStatusBlock != (nint)iosb.Pointer || call.Reserved != 0)
                            failures.Add($"{label}: APC called with ({call.ApcContext}, 0x{call.IoStatusBlock:X}, {call.Reserved}), expected (456, &iosb, 0)");
                        if ((uint)call.IosbStatus != s || call.IosbInformation != 3)
                            failures.Add($"{label}: the APC saw IOSB {{{W.Hex((uint)call.IosbStatus)}, {call.IosbInformation}}}, expected {{S, 3}}");
                        if (call.ManagedThreadId != thread) failures.Add($"{label}: the APC ran on another thread");
                    }
                    var second = Kernel32.SleepEx(0, true);
                    if (second != 0 || ApcRecorder.Snapshot().Length != 1) failures.Add($"{label}: a second alertable wait returned {W.Hex(second)} / ran the APC again");
                }
                else
                {
                    if (AsyncTest.IsSignalled(file)) failures.Add($"{label}: file signalled by a synchronous failure");
                    if (iosb.Value.Status != AsyncTest.SentinelStatus || iosb.Value.Information != AsyncTest.SentinelInformation)
                        failures.Add($"{label}: IOSB written {{{W.Hex((uint)iosb.Value.Status)}, {iosb.Value.Information}}}, expected untouched");
                    var sleep = Kernel32.SleepEx(0, true);
                    if (sleep != 0 || ApcRecorder.Snapshot().Length != 0) failures.Add($"{label}: SleepEx returned {W.Hex(sleep)}, an APC ran for a synchronous failure");
                }
                if (output.Text != ExpectedOutput(method, s)) failures.Add($"{label}: output \"{output.Text}\", expected \"{ExpectedOutput(method, s)}\"");
            }
        }
        finally
        {
            AsyncTest.DrainApcs();
            AsyncTest.Close(file);
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public void No_event_and_no_APC_signals_the_file_object_when_the_completion_is_delivered()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        try
        {
            using var iosb = new Native<IO_STATUS_BLOCK>();
            var returned = AsyncTest.NtReturnIoctl(file, 0, 0, 0, iosb.Pointer, TransferMethod.METHOD_BUFFERED,
                AsyncTest.Request(0, 0, 3), null, 0);
            Assert.Equal(W.STATUS_SUCCESS, returned);
            Assert.Equal(W.WAIT_OBJECT_0, Kernel32.WaitForSingleObject(file, 0));

            // The next call resets the file object first; a synchronous failure leaves it reset.
            returned = AsyncTest.NtReturnIoctl(file, 0, 0, 0, iosb.Pointer, TransferMethod.METHOD_BUFFERED,
                AsyncTest.Request(W.STATUS_NOT_IMPLEMENTED, W.STATUS_NOT_IMPLEMENTED, 0), null, 0);
            Assert.Equal(W.STATUS_NOT_IMPLEMENTED, returned);
            Assert.Equal(W.WAIT_TIMEOUT, Kernel32.WaitForSingleObject(file, 0));
        }
        finally
        {
            AsyncTest.Close(file);
        }
    }

    [Fact]
    public void A_synchronous_failure_still_resets_the_event_it_was_given()
    {
        var tag = KbTest.NewTag();
        var file = AsyncTest.OpenOverlapped(tag);
        var ev = AsyncTest.NewEvent(initialState: true);
        try
        {
            using var iosb = new Native<IO_STATUS_BLOCK>();
            var returned = AsyncTest.NtReturnIoctl(file, ev, 0, 0, iosb.Pointer, TransferMethod.METHOD_BUFFERED,
                AsyncTest.Request(W.STATUS_NOT_IMPLEMENTED, W.STATUS_NOT_IMPLEMENTED, 0), null, 0);
            Assert.Equal(W.STATUS_NOT_IMPLEMENTED, returned);
            Assert.False(AsyncTest.IsSignalled(ev), "the event was not reset at the start of the call");
        }
        finally
        {
            AsyncTest.Close(ev);
            AsyncTest.Close(file);
        }
    }
}
