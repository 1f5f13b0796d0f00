using KernelBridge.Client.Gate;
using KernelBridge.Platform;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Gate.Support;

/// <summary>
/// A kernel process of the test class's own (persistent, on a fresh instance), with one
/// connection to it. Tests that count objects or stop drivers use one so nobody else's requests
/// disturb them.
/// </summary>
public abstract class OwnKernelFixture : IDisposable
{
    protected OwnKernelFixture(string purpose, params string[] options)
    {
        Instance = KernelProcess.NewInstanceName(purpose);
        Kernel = KernelProcess.Start(Instance, ["--persistent", .. options]);
        try
        {
            Gate = Kernel.Connect();
        }
        catch
        {
            Kernel.Dispose();
            throw;
        }
    }

    public string Instance { get; }
    public KernelProcess Kernel { get; }
    public GateClient Gate { get; }
    public InstanceDirectory Directory => InstanceDirectory.Open(Instance, create: false);

    public void Dispose()
    {
        Gate.Dispose();
        Kernel.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>An own kernel with the test driver loaded at boot (\Device\KbTest...).</summary>
public sealed class TestDriverKernelFixture() : OwnKernelFixture("gate-drv", "--driver", KernelProcess.TestDriverPath);

/// <summary>An own kernel with the built-in drivers only.</summary>
public sealed class PlainKernelFixture() : OwnKernelFixture("gate-plain");
