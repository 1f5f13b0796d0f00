using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;

namespace KernelBridge.Tests.Quota;

/// <summary>
/// --max-completion-packets: packets a process has queued by hand (PostQueuedCompletionStatus,
/// NtSetIoCompletion) and nobody has taken yet are charged to it, as IoSetIoCompletion charges the
/// poster's pool quota. Past the quota: STATUS_QUOTA_EXCEEDED (ERROR_NOT_ENOUGH_QUOTA), nothing queued.
/// Taking a packet, or closing the port, gives the charge back.
/// </summary>
public sealed unsafe class CompletionPacketQuotaTests
{
    private const int Limit = 8;

    [Fact]
    public void The_packet_past_the_quota_fails_with_STATUS_QUOTA_EXCEEDED_and_taking_one_makes_room()
    {
        using var kernel = QuotaTest.StartKernel("q-packets", "--max-completion-packets", $"{Limit}");
        using var hostile = QuotaTest.Connect(kernel);
        using var other = QuotaTest.Connect(kernel);
        using (GateClient.Use(hostile))
        {
            var name = $@"\BaseNamedObjects\q-port-{Guid.NewGuid():N}";
            nint port = 0;
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtCreateIoCompletion(&port, AccessMask.IO_COMPLETION_ALL_ACCESS, new ObjectAttributes(name), 0));
            for (var i = 1; i <= Limit; i++) Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtSetIoCompletion(port, i, i, NtStatus.STATUS_SUCCESS, 0));
            Assert.Equal(NtStatus.STATUS_QUOTA_EXCEEDED, Ntdll.NtSetIoCompletion(port, 99, 99, NtStatus.STATUS_SUCCESS, 0));
            Assert.False(Kernel32.PostQueuedCompletionStatus(port, 0, 99, null));
            Assert.Equal((uint)Win32Error.ERROR_NOT_ENOUGH_QUOTA, Kernel32.GetLastError());
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtQueryIoCompletion(port, out var depth));
            Assert.Equal(Limit, depth);
            Assert.Contains(KernelControl.QueryQuotas(hostile).RowsOf(Environment.ProcessId), row => row.CompletionPackets == Limit);

            // Another process may still post, even to the same port.
            nint shared = 0;
            using (GateClient.Use(other))
            {
                Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtOpenIoCompletion(&shared, AccessMask.IO_COMPLETION_ALL_ACCESS, new ObjectAttributes(name)));
                Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtSetIoCompletion(shared, 50, 50, NtStatus.STATUS_SUCCESS, 0));
            }

            // Taking a packet gives its charge back.
            Assert.Equal(1, Take(port));
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtSetIoCompletion(port, 9, 9, NtStatus.STATUS_SUCCESS, 0));
            Assert.Equal(NtStatus.STATUS_QUOTA_EXCEEDED, Ntdll.NtSetIoCompletion(port, 99, 99, NtStatus.STATUS_SUCCESS, 0));

            // Closing the port drops its packets, and their charges.
            using (GateClient.Use(other)) Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtClose(shared));
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtClose(port));
            var quotas = QuotaTest.WaitForQuotas(hostile, q => q.RowsOf(Environment.ProcessId).All(r => r.CompletionPackets == 0));
            Assert.All(quotas.RowsOf(Environment.ProcessId), row => Assert.Equal(0, row.CompletionPackets));
            var again = Kernel32.CreateIoCompletionPort(Kernel32.INVALID_HANDLE_VALUE, 0, 0, 0);
            for (var i = 1; i <= Limit; i++) Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtSetIoCompletion(again, i, i, NtStatus.STATUS_SUCCESS, 0));
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtClose(again));
        }
    }

    private static nint Take(nint port)
    {
        long timeout = -10_000L * 10_000;
        nint key = 0, context = 0;
        var iosb = new IO_STATUS_BLOCK();
        var status = Ntdll.NtRemoveIoCompletion(port, &key, &context, &iosb, &timeout);
        Assert.Equal(NtStatus.STATUS_SUCCESS, status);
        return context;
    }
}
