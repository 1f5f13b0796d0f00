using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Rings;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Drivers.Echo;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Gate;

/// <summary>
/// A client owns its syscall area and can write anything into it at any moment. Whatever it writes
/// — garbage, indices moved backwards or past the end, lengths beyond its area, records of no known
/// type, a frame whose header lies — the kernel closes that client's connection with a log line
/// naming it and the reason, runs its process down, unmaps its area, and serves everyone else as
/// before. A client that dies in the middle of a record is simply gone: nothing leaks.
/// </summary>
public sealed unsafe class HostileRingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    public enum Abuse
    {
        Garbage,
        TailBackwards,
        TailPastTheEnd,
        LengthBeyondTheArea,
        UnknownRecordType,
        MarkerWithPayload,
        RecordShorterThanAFrameHeader,
        FrameLengthThatLies,
    }

    public static TheoryData<Abuse> Abuses() => new(Enum.GetValues<Abuse>());

    [Theory]
    [MemberData(nameof(Abuses))]
    public void A_client_that_breaks_its_rings_is_disconnected_and_nobody_else_notices(Abuse abuse)
    {
        using var kernel = KernelProcess.Start(KernelProcess.NewInstanceName("hostile-ring"), "--persistent");
        using var bystander = GateClient.Connect(kernel.Instance, autoStart: false, GateFeatures.SharedMemory);
        Assert.True(bystander.UsesSharedMemory);
        var clientsBefore = KernelControl.QueryState(bystander).Clients;

        using (var offender = RawSharedGate.Connect(kernel.Instance))
        {
            // The area works before it is abused.
            Assert.Equal(NtStatus.STATUS_SUCCESS, (NtStatus)offender.Call((ushort)Syscall.KbQueryKernelState, new KbQueryKernelStateRequest(0)).Header.Value);
            Assert.True(MappedAreas(kernel).Count >= 2, "the kernel does not map the two syscall areas");

            var expected = Commit(offender, abuse);
            offender.RingDoorbell();

            Assert.True(offender.Gate.WaitForClose(Patience), $"{abuse}: the kernel kept the connection open");
            Assert.True(KbTest.Eventually(() => kernel.Process.Output.Contains("protocol violation from process", StringComparison.Ordinal)
                    && kernel.Process.Output.Contains(expected, StringComparison.Ordinal), Patience),
                $"{abuse}: no log line with '{expected}':{Environment.NewLine}{kernel.Process.Output}");
        }

        AssertEveryoneElseIsServed(bystander);
        Assert.True(KbTest.Eventually(() => KernelControl.QueryState(bystander).Clients == clientsBefore, Patience), "the offender's process was not run down");
        Assert.True(KbTest.Eventually(() => MappedAreas(kernel).Count == 1, Patience),
            $"the kernel still maps the offender's area: {string.Join(", ", MappedAreas(kernel))}");
    }

    /// <summary>Writes the abuse into the offender's submission ring; the text the kernel's log line must contain.</summary>
    private static string Commit(RawSharedGate offender, Abuse abuse)
    {
        var header = offender.SubmissionHeader;
        var capacity = header->Capacity;
        var tail = Volatile.Read(ref header->Tail);
        var slot = offender.SubmissionData + (tail & (capacity - 1));
        switch (abuse)
        {
            case Abuse.Garbage:
            {
                var garbage = new Span<byte>(slot, 4096);
                new Random(7).NextBytes(garbage);
                // A positive first word: a committed record of some absurd length, not a reservation in progress.
                MemoryMarshal.Write(garbage, new Random(8).Next(1 << 20, int.MaxValue));
                Volatile.Write(ref header->Tail, tail + 4096);
                return "corrupt";
            }
            case Abuse.TailBackwards:
                Volatile.Write(ref header->Tail, tail - 64);
                return "corrupt";
            case Abuse.TailPastTheEnd:
                Volatile.Write(ref header->Tail, tail + capacity + 4096);
                return "corrupt";
            case Abuse.LengthBeyondTheArea:
                ((RingRecordHeader*)slot)->Type = (int)GateRecord.Frame;
                Volatile.Write(ref header->Tail, tail + 64);
                Volatile.Write(ref ((RingRecordHeader*)slot)->Length, 64 * 1024 * 1024);
                return "corrupt";
            case Abuse.UnknownRecordType:
                offender.Submit(new byte[32], type: 77);
                return "a record of type 77";
            case Abuse.MarkerWithPayload:
                offender.Submit(new byte[8], type: (int)GateRecord.FrameOnSocket);
                return $"a record of type {(int)GateRecord.FrameOnSocket} and 8 bytes";
            case Abuse.RecordShorterThanAFrameHeader:
                offender.Submit(new byte[5]);
                return "shorter than a frame header";
            case Abuse.FrameLengthThatLies:
            {
                var frame = RawGate.Frame(FrameKind.Call, (ushort)Syscall.KbQueryKernelState, 99, 0, new KbQueryKernelStateRequest(0));
                MemoryMarshal.Write(frame, new FrameHeader(1024 * 1024, FrameKind.Call, (ushort)Syscall.KbQueryKernelState, 99, 0));
                offender.Submit(frame);
                return "holds a frame of 1048576";
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(abuse));
        }
    }

    /// <summary>
    /// A client that reserved a record and never committed it, then died (its socket closed): the
    /// kernel runs it down and lets go of its area; everyone else is served all along.
    /// </summary>
    [Fact]
    public void A_client_that_dies_in_the_middle_of_a_record_leaves_nothing_behind()
    {
        using var kernel = KernelProcess.Start(KernelProcess.NewInstanceName("ring-death"), "--persistent");
        using var bystander = GateClient.Connect(kernel.Instance, autoStart: false, GateFeatures.SharedMemory);
        var clientsBefore = KernelControl.QueryState(bystander).Clients;

        using (var dying = RawSharedGate.Connect(kernel.Instance))
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, (NtStatus)dying.Call((ushort)Syscall.KbQueryKernelState, new KbQueryKernelStateRequest(0)).Header.Value);
            Assert.Equal(RingStatus.Ok, dying.Submissions.TryReserve((int)GateRecord.Frame, 64, out var reservation));
            reservation.Payload.Fill(0xEE);
            dying.RingDoorbell();
            // Stuck half-way: the kernel waits for it without holding anybody else up.
            AssertEveryoneElseIsServed(bystander);
        }

        Assert.True(KbTest.Eventually(() => KernelControl.QueryState(bystander).Clients == clientsBefore, Patience), "the dead client was not run down");
        Assert.True(KbTest.Eventually(() => MappedAreas(kernel).Count == 1, Patience), "the dead client's area is still mapped");
        Assert.DoesNotContain("protocol violation", kernel.Process.Output, StringComparison.Ordinal);
        AssertEveryoneElseIsServed(bystander);
    }

    /// <summary>
    /// A shared-memory client posts requests whose 4 MiB of results it never reads: its completion
    /// ring fills, the rest waits in the kernel up to its backlog limit, then it is disconnected
    /// (once, in the log) and run down; everyone else is served all along.
    /// </summary>
    [Fact]
    public void A_client_that_stops_reading_its_completion_ring_is_disconnected_and_nobody_else_waits()
    {
        const int Requests = 256, OutputBytes = 16 * 1024;
        using var kernel = KernelProcess.Start(KernelProcess.NewInstanceName("ring-stalled"), "--persistent", "--driver", KernelProcess.TestDriverPath,
            "--max-client-backlog", (1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var bystander = GateClient.Connect(kernel.Instance, autoStart: false, GateFeatures.SharedMemory);
        var clientsBefore = KernelControl.QueryState(bystander).Clients;
        using (var stalled = RawSharedGate.Connect(kernel.Instance))
        {
            var handle = stalled.OpenFile(KbTestInterface.Device(KbTestInterface.ServiceName) + KbTest.NewTag());
            var input = RawIo.Bytes(new ReturnRequest(0, 0, OutputBytes, PendMode.CompleteLater, 300, 0x5A, OutputBytes));
            for (var i = 0; i < Requests; i++)
                stalled.Post((ushort)Syscall.NtDeviceIoControlFile, RawIo.Ioctl(handle, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED, input.Length, OutputBytes), input);
            AssertEveryoneElseIsServed(bystander);
            Assert.True(stalled.Gate.WaitForClose(Patience), $"the kernel kept a client that stopped reading:{Environment.NewLine}{kernel.Process.Output}");
        }
        AssertEveryoneElseIsServed(bystander);
        Assert.True(KbTest.Eventually(() => KernelControl.QueryState(bystander).Clients == clientsBefore, Patience), "the stalled client was not run down");
        Assert.True(KbTest.Eventually(() => MappedAreas(kernel).Count == 1, Patience), "the stalled client's area is still mapped");
        var notices = 0;
        // The log line may reach the output a moment after the connection closed.
        Assert.True(KbTest.Eventually(() => (notices = kernel.Process.Output.Split('\n').Count(line => line.Contains("stopped reading", StringComparison.Ordinal))) >= 1, Patience),
            $"no log line about the stalled client:{Environment.NewLine}{kernel.Process.Output}");
        Assert.True(notices == 1, $"expected one log line about the stalled client, got {notices}:{Environment.NewLine}{kernel.Process.Output}");
    }

    private static void AssertEveryoneElseIsServed(GateClient bystander)
    {
        using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: bystander);
        for (var i = 0; i < 100; i++)
        {
            var output = new byte[8];
            var result = echo.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, "bystand"u8, output);
            Assert.Equal(7, result.Information);
        }
    }

    /// <summary>The syscall areas the kernel has mapped (memfds it named after their clients).</summary>
    private static List<string> MappedAreas(KernelProcess kernel) =>
        [.. File.ReadLines($"/proc/{kernel.Process.Id}/maps").Where(line => line.Contains("kbridge-syscalls-", StringComparison.Ordinal))];
}
