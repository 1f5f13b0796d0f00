using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using KernelBridge.Client.Gate;
using KernelBridge.Platform;

namespace KernelBridge.Tests.Gate.Support;

/// <summary>
/// A kernel process started under `prlimit --nofile=N:N` (prlimit sets the limit and executes the
/// kernel in its place, so the pid is the kernel's), with the environment the test chose. Its
/// output is collected; disposing kills it by pid if it still runs and removes its instance directory.
/// </summary>
internal sealed class LimitedKernel : IDisposable
{
    private readonly StringBuilder _output = new();

    private LimitedKernel(string instance, Process process)
    {
        Instance = instance;
        Process = process;
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Instance { get; }
    public Process Process { get; }
    public InstanceDirectory Directory => InstanceDirectory.Open(Instance, create: true);

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    private void Collect(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    public static LimitedKernel Start(string instance, int descriptors, params string[] options) => Start(instance, descriptors, null, options);

    public static LimitedKernel Start(string instance, int descriptors, IReadOnlyDictionary<string, string>? environment, params string[] options)
    {
        var prlimit = Posix.Which("prlimit") ?? throw new InvalidOperationException("these tests need prlimit (util-linux)");
        var start = new ProcessStartInfo(prlimit)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.ArgumentList.Add($"--nofile={descriptors}:{descriptors}");
        start.ArgumentList.Add(KernelLauncher.DotnetHost());
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kbridge.dll"));
        foreach (var argument in (string[])["kernel", "--instance", instance, .. options]) start.ArgumentList.Add(argument);
        if (environment is not null)
            foreach (var (key, value) in environment) start.Environment[key] = value;
        var kernel = new LimitedKernel(instance, System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("could not start prlimit"));
        if (!kernel.WaitUntilListening(TimeSpan.FromSeconds(30)))
        {
            var output = kernel.Output;
            kernel.Dispose();
            throw new InvalidOperationException($"kernel for {instance} did not start listening; output:{Environment.NewLine}{output}");
        }
        return kernel;
    }

    private bool WaitUntilListening(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Process.HasExited) return false;
            if (File.Exists(Directory.PidPath))
            {
                using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    probe.Connect(new UnixDomainSocketEndPoint(Directory.SocketPath));
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

    public void Dispose()
    {
        try
        {
            if (!Process.HasExited) Process.Kill();
        }
        catch (InvalidOperationException)
        {
        }
        Process.WaitForExit(10_000);
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
