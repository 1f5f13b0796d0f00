using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.Scanner;
using KernelBridge.Tests.Stack;
using static KernelBridge.Tests.FileSystem.RamFsTest;

namespace KernelBridge.Tests.Scanner;

/// <summary>
/// Windows-driver-samples' scanner, end to end: the Scanner minifilter in a kernel of the test's
/// own, and the scanner service (samples/Scanner) in a process of its own, talking over
/// \ScannerPort. A file is "infected" when it holds the service's pattern ("foul" by default).
/// </summary>
public sealed class ScannerTests
{
    private static async Task<string> Directory(ScannerKernel kernel) => await kernel.Run(NewDirectory);

    [Fact]
    public async Task Infected_files_cannot_be_opened_and_clean_ones_can_with_the_service_connected()
    {
        using var kernel = new ScannerKernel();
        var directory = await Directory(kernel);
        // Planted before any scanner is connected: the default policy lets them through unscanned.
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(await kernel.Run(() => ScannerKernel.Plant(directory + @"\virus.txt", "this file is FOUL inside"))));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(await kernel.Run(() => ScannerKernel.Plant(directory + @"\letter.txt", "dear friend"))));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(await kernel.Run(() => ScannerKernel.Plant(directory + @"\virus.bin", "foul but not a scanned type"))));
        using var service = kernel.StartService();
        var before = await kernel.Statistics();
        Assert.Equal(1, before.Connected);

        Assert.Equal(Hex(STATUS_ACCESS_DENIED), Hex(await kernel.Run(() => ScannerKernel.TryOpen(directory + @"\virus.txt"))));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(await kernel.Run(() => ScannerKernel.TryOpen(directory + @"\letter.txt"))));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(await kernel.Run(() => ScannerKernel.TryOpen(directory + @"\virus.bin"))));
        var (handle, error) = await kernel.Run(() =>
        {
            var h = Kernel32.CreateFile(Win32(directory + @"\virus.txt"), GENERIC_READ, 7, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
            return (h, Kernel32.GetLastError());
        });
        Assert.Equal(Kernel32.INVALID_HANDLE_VALUE, handle);
        Assert.Equal(ERROR_ACCESS_DENIED, error);

        var after = await kernel.Statistics();
        Assert.Equal(before.Scanned + 3, after.Scanned);
        Assert.Equal(before.Infected + 2, after.Infected);
        Assert.Equal(before.OpensDenied + 2, after.OpensDenied);
        Assert.True(service.WaitForLine("INFECTED (foul)", TimeSpan.FromSeconds(5)), service.Output);
    }

    [Fact]
    public async Task A_write_carrying_a_pattern_fails_and_a_file_written_clean_piece_by_piece_is_scanned_again_at_close()
    {
        using var kernel = new ScannerKernel();
        var directory = await Directory(kernel);
        using var service = kernel.StartService("--pattern", "worm");
        var file = directory + @"\pieces.txt";
        var (whole, piecewise) = await kernel.Run(() =>
        {
            using var handle = OpenFile(file, FILE_CREATE);
            var wholeWrite = WriteAt(handle.Value, 0, "a worm here"u8.ToArray(), out _);
            var first = WriteAt(handle.Value, 0, "wo"u8.ToArray(), out _);
            var second = WriteAt(handle.Value, 2, "rm"u8.ToArray(), out _);
            return (wholeWrite, first | second);
        });
        Assert.Equal(Hex(STATUS_ACCESS_DENIED), Hex(whole));
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(piecewise));
        // The close after writing was scanned (and found infected); the next open is denied.
        Assert.True(service.WaitForLine("CloseAfterWrite: 4 of 4 bytes: INFECTED (worm)", TimeSpan.FromSeconds(10)), service.Output);
        Assert.Equal(Hex(STATUS_ACCESS_DENIED), Hex(await kernel.Run(() => ScannerKernel.TryOpen(file))));
        var statistics = await kernel.Statistics();
        Assert.Equal(1, statistics.WritesDenied);
        Assert.True(statistics.CloseScans >= 1);
    }

    [Fact]
    public async Task Many_concurrent_opens_all_get_the_right_verdict()
    {
        using var kernel = new ScannerKernel();
        var directory = await Directory(kernel);
        for (var i = 0; i < 8; i++)
        {
            var index = i;
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(await kernel.Run(() => ScannerKernel.Plant($@"{directory}\f{index}.txt", index % 2 == 0 ? "clean" : "foul"))));
        }
        using var service = kernel.StartService("--threads", "4", "--requests", "4");
        var before = await kernel.Statistics();
        const int threads = 8, opens = 25;
        var results = await Task.WhenAll(Enumerable.Range(0, threads).Select(t => kernel.Run(() =>
        {
            var wrong = new List<string>();
            for (var i = 0; i < opens; i++)
            {
                var index = (t + i) % 8;
                var status = ScannerKernel.TryOpen($@"{directory}\f{index}.txt");
                var expected = index % 2 == 0 ? STATUS_SUCCESS : STATUS_ACCESS_DENIED;
                if (status != expected) wrong.Add($"f{index}.txt: {Hex(status)}");
            }
            return wrong;
        })));
        Assert.True(!results.SelectMany(r => r).Any(), $"{string.Join(", ", results.SelectMany(r => r))}{Environment.NewLine}{await kernel.Statistics()}{Environment.NewLine}{service.Output}");
        var after = await kernel.Statistics();
        Assert.Equal(before.Scanned + threads * opens, after.Scanned);
        Assert.Equal(before.OpensDenied + threads * opens / 2, after.OpensDenied);
    }

    [Fact]
    public async Task The_service_killed_and_restarted_while_files_are_opened_hangs_nothing_and_the_policy_covers_the_gap()
    {
        using var kernel = new ScannerKernel();
        var directory = await Directory(kernel);
        var infected = directory + @"\infected.txt";
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(await kernel.Run(() => ScannerKernel.Plant(infected, "foul"))));
        var service = kernel.StartService();
        using var stop = new CancellationTokenSource();
        // Opens keep coming while the service dies and comes back; none may take long.
        var opener = kernel.Run(() =>
        {
            var slowest = TimeSpan.Zero;
            var count = 0;
            while (!stop.IsCancellationRequested)
            {
                var started = DateTime.UtcNow;
                ScannerKernel.TryOpen(infected);
                var took = DateTime.UtcNow - started;
                if (took > slowest) slowest = took;
                count++;
            }
            return (slowest, count);
        });
        try
        {
            await Task.Delay(200);
            service.Kill();
            await kernel.WaitDisconnected();
            // No scanner: the default policy lets the infected file open.
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(await kernel.Run(() => ScannerKernel.TryOpen(infected))));
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(await kernel.Run(() => ScannerKernel.Plant(directory + @"\clean.txt", "clean"))));
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(await kernel.Run(() => ScannerKernel.Plant(directory + @"\other.bin", "foul"))));
            // Fail closed: every file of a scanned type is denied, scanned or not; other types are not the scanner's business.
            await kernel.SetPolicy(ScannerPolicy.DenyWhenUnscanned);
            Assert.Equal(Hex(STATUS_ACCESS_DENIED), Hex(await kernel.Run(() => ScannerKernel.TryOpen(directory + @"\clean.txt"))));
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(await kernel.Run(() => ScannerKernel.TryOpen(directory + @"\other.bin"))));
            await kernel.SetPolicy(ScannerPolicy.AllowWhenUnscanned);
            service.Dispose();
            service = kernel.StartService();
            Assert.Equal(Hex(STATUS_ACCESS_DENIED), Hex(await kernel.Run(() => ScannerKernel.TryOpen(infected))));
        }
        finally
        {
            stop.Cancel();
            service.Dispose();
        }
        var (slowest, opens) = await opener;
        Assert.True(opens > 0);
        Assert.True(slowest < TimeSpan.FromSeconds(5), $"an open took {slowest} while the service died");
        var statistics = await kernel.Statistics();
        Assert.True(statistics.UnscannedAllowed >= 1 && statistics.UnscannedDenied >= 1, statistics.ToString());
    }

    [Fact]
    public async Task One_service_at_a_time_a_second_one_is_refused_with_the_connection_limit()
    {
        using var kernel = new ScannerKernel();
        using var service = kernel.StartService();
        var hr = await kernel.Run(() =>
        {
            var result = FltLib.FilterConnectCommunicationPort(ScannerInterface.PortName, 0, [], 0, 0, out var port);
            if (port != 0) Kernel32.CloseHandle(port);
            return result;
        });
        Assert.Equal(unchecked((int)0x800704D6), hr); // HRESULT_FROM_WIN32(ERROR_CONNECTION_COUNT_LIMIT)
    }

    /// <summary>
    /// The service's own I/O is not scanned (it could not answer for itself). The "service" here is
    /// a second connection of this test process — a process of its own to the kernel — that
    /// declares everything infected; the same open through the first connection is denied.
    /// </summary>
    [Fact]
    public async Task The_connected_services_own_opens_are_not_scanned()
    {
        using var kernel = new ScannerKernel();
        var directory = await Directory(kernel);
        var file = directory + @"\mine.txt";
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(await kernel.Run(() => ScannerKernel.Plant(file, "harmless"))));
        await WithServiceConnection(kernel, async (serviceGate, port) =>
        {
            var responder = StackTest.RunBlocking(serviceGate, () => AnswerEverything(port, safe: false, max: 1));
            Assert.Equal(Hex(STATUS_ACCESS_DENIED), Hex(await kernel.Run(() => ScannerKernel.TryOpen(file))));
            Assert.Equal(1, await responder.WaitAsync(TimeSpan.FromSeconds(10)));
            var own = await StackTest.RunBlocking(serviceGate, () => ScannerKernel.TryOpen(file)).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(own));
        });
    }

    [Fact]
    public async Task A_service_that_never_answers_costs_an_open_the_reply_timeout_then_the_policy_decides()
    {
        using var kernel = new ScannerKernel();
        var directory = await Directory(kernel);
        var file = directory + @"\slow.txt";
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(await kernel.Run(() => ScannerKernel.Plant(file, "foul"))));
        await WithServiceConnection(kernel, async (serviceGate, port) =>
        {
            // Takes the message and never replies.
            var taker = StackTest.RunBlocking(serviceGate, () => AnswerEverything(port, safe: false, max: 1, reply: false));
            var started = DateTime.UtcNow;
            var status = await kernel.Run(() => ScannerKernel.TryOpen(file));
            var took = DateTime.UtcNow - started;
            Assert.Equal(Hex(STATUS_SUCCESS), Hex(status));
            Assert.InRange(took, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(15));
            Assert.Equal(1, await taker.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(1, (await kernel.Statistics()).Timeouts);
        });
    }

    /// <summary>A second connection of this process connected to \ScannerPort, for the body; closed (and the connection ended) after it.</summary>
    private static async Task WithServiceConnection(ScannerKernel kernel, Func<GateClient, nint, Task> body)
    {
        var serviceGate = kernel.Kernel.Connect();
        try
        {
            var port = await StackTest.RunBlocking(serviceGate, () =>
            {
                Assert.Equal(FltLib.S_OK, FltLib.FilterConnectCommunicationPort(ScannerInterface.PortName, 0, [], 0, 0, out var p));
                return p;
            }).WaitAsync(TimeSpan.FromSeconds(10));
            await body(serviceGate, port);
            await StackTest.RunBlocking(serviceGate, () => Kernel32.CloseHandle(port)).WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            StackTest.DisposeGate(serviceGate);
        }
    }

    /// <summary>A minimal service on the calling thread's connection: takes messages, answers each with one verdict (or not at all).</summary>
    private static unsafe int AnswerEverything(nint port, bool safe, int max, bool reply = true)
    {
        var buffer = new byte[64 * 1024];
        var answered = 0;
        while (answered < max)
        {
            if (FltLib.FilterGetMessage(port, buffer) != FltLib.S_OK) break;
            answered++;
            if (!reply) continue;
            var answer = new byte[16 + ScannerInterface.ReplySize];
            BitConverter.TryWriteBytes(answer.AsSpan(8), BitConverter.ToUInt64(buffer, 8));
            BitConverter.TryWriteBytes(answer.AsSpan(16), safe ? 1u : 0u);
            FltLib.FilterReplyMessage(port, answer);
        }
        return answered;
    }
}
