using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Drivers.Echo;
using KernelBridge.Platform.Interop;
using Spectre.Console;

namespace KernelBridge.Cli.Commands;

/// <summary>
/// kbridge bench: one IOCTL round trip through KernelBridge against, in the same run, a real
/// Linux ioctl, a plain Unix-socket request/reply (wineserver's shape) and a 16-byte memcpy.
/// Medians of batches, reported as ratios; absolute times drift on shared machines.
/// </summary>
internal static unsafe class BenchCommand
{
    private const int Payload = 16;

    public static Command Create()
    {
        var batches = CheckedOptions.WholeNumber("--batches", "Batches per measurement, the median reported", 3, 1_000, 15);
        var perBatch = CheckedOptions.WholeNumber("--per-batch", "Operations per batch", 10, 10_000_000, 2000);
        var json = CommonOptions.Json();
        var command = new Command("bench", "Measure an IOCTL round trip against a real ioctl, a Unix-socket round trip and memcpy (ratios, one run)");
        command.Options.Add(batches);
        command.Options.Add(perBatch);
        command.Options.Add(json);
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            var (b, n) = (parse.GetValue(batches), parse.GetValue(perBatch));
            using var gate = CommonOptions.Connect(parse);
            using var scope = GateClient.Use(gate);
            var results = new List<(string Name, double NanosPerOp, double BytesPerOp)>
            {
                Measure("memcpy 16 B", b, n, MemCopy()),
                Measure("Linux ioctl(FIONREAD)", b, n, LinuxIoctl(out var devNull)),
                Measure("Unix socket round trip", b, n, SocketRoundTrip(out var server)),
            };
            var ioctl = KernelBridgeIoctl(out var echo);
            var kernelBefore = Client.KernelControl.QueryState(gate).AllocatedBytes;
            results.Add(Measure("KernelBridge IOCTL (Echo, buffered, 16 B)", b, n, ioctl));
            var kernelBytes = (Client.KernelControl.QueryState(gate).AllocatedBytes - kernelBefore) / (double)((b + 1) * n);
            devNull.Dispose();
            server.Dispose();
            Ntdll.NtClose(echo);
            var kernelBridge = results[^1].NanosPerOp;
            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new
                {
                    results = results.Select(r => new
                    {
                        name = r.Name, nanosecondsPerOperation = Math.Round(r.NanosPerOp, 1), clientBytesPerOperation = Math.Round(r.BytesPerOp, 2),
                        kernelBridgeRatio = Math.Round(kernelBridge / r.NanosPerOp, 2),
                    }),
                    kernelBytesPerIoctl = Math.Round(kernelBytes, 2),
                });
                return 0;
            }
            var table = new Table().AddColumn("operation").AddColumn(new TableColumn("median ns/op").RightAligned())
                .AddColumn(new TableColumn("KernelBridge is ×").RightAligned()).AddColumn(new TableColumn("client bytes/op").RightAligned());
            foreach (var (name, nanos, bytes) in results)
                table.AddRow(name, nanos.ToString("F0", CultureInfo.InvariantCulture), (kernelBridge / nanos).ToString("F2", CultureInfo.InvariantCulture),
                    bytes.ToString("F1", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"kernel bytes allocated per KernelBridge IOCTL: {kernelBytes.ToString("F1", CultureInfo.InvariantCulture)}");
            AnsiConsole.MarkupLine("[grey]Medians of batches in one run; compare ratios, not absolute times.[/]");
            return 0;
        }));
        return command;
    }

    private static (string, double, double) Measure(string name, int batches, int perBatch, Action operation)
    {
        for (var i = 0; i < perBatch; i++) operation();
        var samples = new double[batches];
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        for (var b = 0; b < batches; b++)
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < perBatch; i++) operation();
            samples[b] = watch.Elapsed.TotalNanoseconds / perBatch;
        }
        var bytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)(batches * perBatch);
        Array.Sort(samples);
        return (name, samples[batches / 2], bytes);
    }

    private static Action MemCopy()
    {
        var source = new byte[Payload];
        var destination = new byte[Payload];
        return () => source.AsSpan().CopyTo(destination);
    }

    private static Action LinuxIoctl(out Microsoft.Win32.SafeHandles.SafeFileHandle devNull)
    {
        var handle = File.OpenHandle("/dev/null");
        devNull = handle;
        var fd = (int)handle.DangerousGetHandle();
        return () => Libc.TrivialIoctl(fd);
    }

    /// <summary>A request/reply over a Unix socket to an echo thread: the shape of a wineserver call.</summary>
    private static Action SocketRoundTrip(out IDisposable server)
    {
        var path = Path.Combine(Path.GetTempPath(), $"kbridge-bench-{Environment.ProcessId}.sock");
        File.Delete(path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        client.Connect(new UnixDomainSocketEndPoint(path));
        var peer = listener.Accept();
        var echo = new Thread(() =>
        {
            var buffer = new byte[Payload];
            try
            {
                while (peer.Receive(buffer) is > 0 and var n) peer.Send(buffer.AsSpan(0, n));
            }
            catch (SocketException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
        }) { IsBackground = true };
        echo.Start();
        server = new Cleanup(() =>
        {
            client.Dispose();
            peer.Dispose();
            listener.Dispose();
            File.Delete(path);
        });
        var request = new byte[Payload];
        var reply = new byte[Payload];
        return () =>
        {
            client.Send(request);
            var got = 0;
            while (got < Payload) got += client.Receive(reply.AsSpan(got));
        };
    }

    private static Action KernelBridgeIoctl(out nint handle)
    {
        nint opened;
        IO_STATUS_BLOCK iosb = default;
        var status = Ntdll.NtCreateFile(&opened, Abi.AccessMask.GENERIC_READ | Abi.AccessMask.GENERIC_WRITE | Abi.AccessMask.SYNCHRONIZE,
            new ObjectAttributes(EchoInterface.DosName), &iosb, 0, 0, Abi.CreateDisposition.FILE_OPEN, Abi.CreateOptions.FILE_SYNCHRONOUS_IO_NONALERT);
        Client.NtStatusException.ThrowIfFailed(status, "opening Echo");
        handle = opened;
        var device = opened;
        var input = new byte[Payload];
        var output = new byte[Payload];
        var code = EchoInterface.IOCTL_ECHO_BUFFERED.Value;
        return () =>
        {
            IO_STATUS_BLOCK result;
            fixed (byte* inPointer = input)
            fixed (byte* outPointer = output)
                Ntdll.NtDeviceIoControlFile(device, 0, 0, 0, &result, code, inPointer, Payload, outPointer, Payload);
        };
    }

    private sealed class Cleanup(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
