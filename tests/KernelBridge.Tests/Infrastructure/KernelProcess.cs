using System.Net.Sockets;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Platform;

namespace KernelBridge.Tests.Infrastructure;

/// <summary>A kernel host process of the test's own, on an instance nobody else uses.</summary>
public sealed class KernelProcess : IDisposable
{
    private KernelProcess(string instance, ChildProcess process)
    {
        Instance = instance;
        Process = process;
    }

    public string Instance { get; }
    public ChildProcess Process { get; }
    public InstanceDirectory Directory => InstanceDirectory.Open(Instance, create: true);

    public static string TestDriverPath => Path.Combine(AppContext.BaseDirectory, "KernelBridge.TestDriver.dll");

    public static string TestFilterDriverPath => Path.Combine(AppContext.BaseDirectory, "KernelBridge.TestFilterDriver.dll");
    public static string TestMinifilterPath => Path.Combine(AppContext.BaseDirectory, "KernelBridge.TestMinifilter.dll");

    public static string NewInstanceName(string purpose) => $"t-{purpose}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Starts `kbridge kernel --instance NAME ...` and waits (bounded) until it listens.</summary>
    public static KernelProcess Start(string instance, params string[] options) => Start(instance, null, [], options);

    /// <summary>
    /// As <see cref="Start(string, string[])"/>, with the environment the test chose, under a
    /// command that executes the kernel in its place (`prlimit --nofile=N:N`), so the pid is the kernel's.
    /// </summary>
    public static KernelProcess Start(string instance, IReadOnlyDictionary<string, string>? environment, IReadOnlyList<string> prefix, params string[] options)
    {
        string[] kernelArguments = [Path.Combine(AppContext.BaseDirectory, "kbridge.dll"), "kernel", "--instance", instance, .. VerifierDefault(options), .. options];
        var process = prefix.Count > 0
            ? ChildProcess.Start(prefix[0], environment, [.. prefix.Skip(1), KernelLauncher.DotnetHost(), .. kernelArguments])
            : ChildProcess.Start(KernelLauncher.DotnetHost(), environment, kernelArguments);
        var kernel = new KernelProcess(instance, process);
        if (!kernel.WaitUntilListening(TimeSpan.FromSeconds(30)))
        {
            var output = process.Output;
            kernel.Dispose();
            throw new InvalidOperationException($"kernel for {instance} did not start listening; output:{Environment.NewLine}{output}");
        }
        return kernel;
    }

    /// <summary>
    /// Test kernels verify every driver (docs/driver-verifier.md) unless the test says otherwise,
    /// except KbTest, whose requests misbehave on purpose where a test asks them to (Windows' own
    /// answers to a driver's odd returns are what those tests check).
    /// </summary>
    private static string[] VerifierDefault(string[] options) =>
        options.Any(o => o.StartsWith("--verifier", StringComparison.Ordinal)) ? [] : ["--verifier", "all", "--verifier-exclude", "KbTest"];

    public bool WaitUntilListening(TimeSpan timeout)
    {
        var socketPath = Directory.SocketPath;
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Process.Process.HasExited) return false;
            if (File.Exists(socketPath))
            {
                using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    probe.Connect(new UnixDomainSocketEndPoint(socketPath));
                    return true;
                }
                catch (SocketException)
                {
                }
            }
            Thread.Sleep(20);
        }
        return false;
    }

    public GateClient Connect() => GateClient.Connect(Instance, autoStart: false);

    /// <summary>Asks the kernel to stop, waits (bounded), kills it if it will not, removes the instance directory.</summary>
    public void Dispose()
    {
        if (!Process.Process.HasExited)
        {
            try
            {
                using var gate = Connect();
                KernelControl.Shutdown(gate);
            }
            catch (KernelUnavailableException)
            {
            }
            Process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        Process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory.Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
