using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Gate;

/// <summary>
/// Regression (issue 6): the gate's memory was neither bounded nor given back. Every idle
/// connection cost about 65 KB (two 64 KiB buffers), a 64 MiB frame was buffered in full before
/// anything checked it, and after a few of those the idle kernel stayed over 1 GB resident.
/// </summary>
public sealed class GateMemoryTests
{
    private const int IdleConnections = 200;
    private const int MiB = 1024 * 1024;

    /// <summary>Long enough for the kernel to notice it has gone quiet and give back what the burst left (garbage included).</summary>
    private static readonly TimeSpan QuietTime = TimeSpan.FromSeconds(4);

    /// <summary>
    /// 200 more idle connections grow the settled kernel by little each. Tiered compilation is off
    /// for this kernel: methods compiled again in the middle of the measurement (a one-time cost of
    /// a few megabytes) would otherwise count as the connections'.
    /// </summary>
    [Fact]
    public void An_idle_connection_costs_the_kernel_little_memory()
    {
        var environment = new Dictionary<string, string> { ["DOTNET_TieredCompilation"] = "0" };
        using var kernel = KernelProcess.Start(KernelProcess.NewInstanceName("idle-cost"), environment, [], "--persistent");
        var pid = kernel.Process.Id;
        // A first round warms up what every connection shares (code, pools) before the baseline.
        OpenIdle(kernel.Instance, IdleConnections).ForEach(c => c.Dispose());
        Thread.Sleep(QuietTime);
        var before = ProcStatus.ResidentBytes(pid);
        var connections = OpenIdle(kernel.Instance, IdleConnections);
        try
        {
            Thread.Sleep(QuietTime);
            var after = ProcStatus.ResidentBytes(pid);
            var perConnection = (after - before) / IdleConnections;
            Assert.True(perConnection < 16 * 1024,
                $"each idle connection costs the kernel {perConnection / 1024.0:0.0} KiB ({before / 1024} KiB before {IdleConnections} connections, {after / 1024} KiB after)");
        }
        finally
        {
            connections.ForEach(c => c.Dispose());
        }
    }

    /// <summary>
    /// NtClose carries 8 bytes: a Call frame for it announcing 16 MiB is a protocol violation the
    /// moment its header is in. The kernel hangs up then, without waiting for (or buffering) the body.
    /// </summary>
    [Fact]
    public void A_frame_over_its_services_limit_is_refused_after_its_header_alone()
    {
        using var kernel = KernelProcess.Start(KernelProcess.NewInstanceName("oversize"), "--persistent");
        using var bystander = kernel.Connect();
        using (var offender = RawGate.Connect(kernel.Instance))
        {
            offender.Handshake();
            offender.Send(RawGate.Frame(16 * MiB, FrameKind.Call, (ushort)Syscall.NtClose, 1, Environment.CurrentManagedThreadId, RawIo.Bytes(new NtCloseRequest(4))));
            Assert.True(offender.WaitForClose(TimeSpan.FromSeconds(5)), "the kernel is waiting for 16 MiB of an NtClose request");
        }
        // The log line may reach the output a moment after the connection closed.
        Assert.True(KbTest.Eventually(() => kernel.Process.Output.Contains("NtClose", StringComparison.Ordinal), TimeSpan.FromSeconds(10)),
            $"no protocol-violation line naming NtClose in the kernel's output:{Environment.NewLine}{kernel.Process.Output}");
        Assert.Equal(kernel.Process.Id, KernelControl.QueryState(bystander).KernelProcessId);
    }

    /// <summary>The bulk services still take the largest transfer: a 60 MiB write reaches the driver whole.</summary>
    [Fact]
    public void The_idle_kernel_gives_back_the_memory_of_large_writes()
    {
        using var kernel = KernelProcess.Start(KernelProcess.NewInstanceName("bulk-rss"), "--persistent");
        var pid = kernel.Process.Id;
        using var client = RawGate.Connect(kernel.Instance);
        client.Handshake();
        var handle = client.OpenFile(@"\Device\Null", CreateOptions.FILE_SYNCHRONOUS_IO_NONALERT);
        var small = new byte[4096];
        client.Call((ushort)Syscall.NtWriteFile, RawIo.Write(handle, small.Length), small);
        Thread.Sleep(500);
        var baseline = ProcStatus.ResidentBytes(pid);

        var data = new byte[60 * MiB];
        for (var i = 0; i < 4; i++)
        {
            var reply = client.Call((ushort)Syscall.NtWriteFile, RawIo.Write(handle, data.Length), data);
            Assert.Equal(NtStatus.STATUS_SUCCESS, (NtStatus)reply.Header.Value);
            Assert.Equal(data.Length, reply.Read<IoTransferReply>().IoStatus.Information);
        }
        var peak = ProcStatus.ResidentBytes(pid);

        long now = 0;
        var returned = KbTest.Eventually(() => (now = ProcStatus.ResidentBytes(pid)) < baseline + 40 * MiB, TimeSpan.FromSeconds(30));
        Assert.True(returned, $"the idle kernel holds {(now - baseline) / MiB} MiB more than before four 60 MiB writes (baseline {baseline / MiB} MiB, peak {peak / MiB} MiB)");
    }

    private static List<RawGate> OpenIdle(string instance, int count)
    {
        var connections = new List<RawGate>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var gate = RawGate.Connect(instance);
                connections.Add(gate);
                gate.Handshake();
            }
            Assert.Equal(NtStatus.STATUS_SUCCESS, connections[^1].QueryState());
            return connections;
        }
        catch
        {
            connections.ForEach(c => c.Dispose());
            throw;
        }
    }
}
