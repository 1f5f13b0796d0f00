using KernelBridge.Tests.Gate.Support;

namespace KernelBridge.Tests.Win32k;

/// <summary>
/// The message tests' own kernel: they make many threads and processes whose queues and windows the
/// kernel reaps a little later, which must not disturb the counts other tests compare on the shared kernel.
/// </summary>
public sealed class Win32kKernelFixture : OwnKernelFixture
{
    public Win32kKernelFixture() : base("win32k") => UserTest.Gate = Gate;
}

[CollectionDefinition(Name)]
public sealed class Win32kCollection : ICollectionFixture<Win32kKernelFixture>
{
    public const string Name = "win32k";
}
