using KernelBridge.Client.Gate;
using KernelBridge.Platform;

namespace KernelBridge.Tests.Infrastructure;

/// <summary>
/// One persistent kernel process for the conformance tests, with the test driver loaded at boot.
/// The test process's default connection (what Ntdll and Kernel32 use) goes to it.
/// </summary>
public sealed class KernelFixture : IDisposable
{
    public KernelFixture()
    {
        Instance = KernelProcess.NewInstanceName("conformance");
        Environment.SetEnvironmentVariable(InstanceDirectory.InstanceVariable, Instance);
        Kernel = KernelProcess.Start(Instance, "--persistent", "--driver", KernelProcess.TestDriverPath, "--driver", KernelProcess.TestFilterDriverPath);
        Gate = GateClient.Default;
    }

    public string Instance { get; }
    public KernelProcess Kernel { get; }
    public GateClient Gate { get; }

    public void Dispose()
    {
        Gate.Dispose();
        Kernel.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class KernelCollection : ICollectionFixture<KernelFixture>
{
    public const string Name = "kernel";
}
