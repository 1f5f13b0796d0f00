using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Mm;

/// <summary>
/// A request that says its buffer lies in a view is checked as hostile input: one that also carries
/// the data breaks the protocol (the connection ends, nobody else notices); one whose buffer is in no
/// view of the process's is answered STATUS_ACCESS_VIOLATION, as a failed probe is.
/// </summary>
public sealed class ByReferenceRulesTests(PlainKernelFixture fixture) : IClassFixture<PlainKernelFixture>
{
    [Fact]
    public void A_write_said_to_be_in_a_view_but_in_no_view_is_an_access_violation()
    {
        using var client = RawGate.Connect(fixture.Instance);
        client.Handshake();
        var handle = client.OpenFile(@"\Device\Null", CreateOptions.FILE_SYNCHRONOUS_IO_NONALERT);
        var request = RawIo.Write(handle, 4096) with { Flags = IoRequestFlags.BufferInView, BufferDataBytes = 0 };
        var reply = client.Call((ushort)Syscall.NtWriteFile, request);
        Assert.Equal(NtStatus.STATUS_ACCESS_VIOLATION, (NtStatus)reply.Header.Value);
        // The connection carries on.
        Assert.Equal(NtStatus.STATUS_SUCCESS, client.QueryState());
    }

    [Fact]
    public void A_write_said_to_be_in_a_view_that_also_carries_its_data_ends_only_that_connection()
    {
        using var bystander = RawGate.Connect(fixture.Instance);
        bystander.Handshake();
        using var client = RawGate.Connect(fixture.Instance);
        client.Handshake();
        var handle = client.OpenFile(@"\Device\Null", CreateOptions.FILE_SYNCHRONOUS_IO_NONALERT);
        var data = new byte[64];
        var request = RawIo.Write(handle, data.Length) with { Flags = IoRequestFlags.BufferInView };
        client.Send(RawGate.Frame(FrameKind.Call, (ushort)Syscall.NtWriteFile, client.NextSequence(), Environment.CurrentManagedThreadId, in request, data));
        Assert.True(client.WaitForClose(TimeSpan.FromSeconds(10)), "the kernel kept serving a client that broke the by-reference rule");
        Assert.True(KbTest.Eventually(() => fixture.Kernel.Process.Output.Contains("NtWriteFile: 64 bytes of data sent for a 64-byte write", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10)), fixture.Kernel.Process.Output);
        Assert.Equal(NtStatus.STATUS_SUCCESS, bystander.QueryState());
    }
}
