using KernelBridge.Abi;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Io;
using static KernelBridge.Tests.FileSystem.RamFsTest;

namespace KernelBridge.Tests.FileSystem;

/// <summary>
/// RamFs between processes: what one process writes another reads, and a file one process holds
/// open blocks an incompatible open by another until that process goes (its rundown cleans the
/// open up, share access included).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class CrossProcessTests(KernelFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public void Another_process_reads_what_this_one_wrote_and_this_one_reads_what_it_wrote()
    {
        var directory = NewDirectory();
        var mine = Win32(directory + @"\from-test.txt");
        var handle = Kernel32.CreateFile(mine, GENERIC_WRITE, ShareAll, 0, CreationDisposition.CREATE_NEW, 0, 0);
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, handle);
        Assert.True(Kernel32.WriteFile(handle, "written by the test"u8, out _));
        Kernel32.CloseHandle(handle);

        using (var reader = Run("read", mine))
            Assert.Contains("data " + Convert.ToHexString("written by the test"u8), Finished(reader));

        var theirs = Win32(directory + @"\from-child.txt");
        using (var writer = Run("write", theirs, "written by the child"))
            Assert.Contains("written 20", Finished(writer));
        using var file = OpenFile(directory + @"\from-child.txt", FILE_OPEN);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(ReadAt(file, 0, 100, out var data)));
        Assert.Equal("written by the child"u8.ToArray(), data);
    }

    [Fact]
    public void A_file_another_process_holds_blocks_an_incompatible_open_until_that_process_dies()
    {
        var path = NewDirectory() + @"\held.txt";
        using (OpenFile(path, FILE_CREATE)) { }
        // The holder opens it for read and write, sharing read and write only.
        using (var holder = ChildProcess.StartDll("KernelBridge.TestClient.dll", null, fixture.Instance, "hold", Win32(path), "1"))
        {
            Assert.True(holder.WaitForLine("ready", Patience), $"the holder did not open the file; it said:{Environment.NewLine}{holder.Output}");
            Assert.Equal(Hex(STATUS_SHARING_VIOLATION), Hex(Create(path, DELETE | SYNCHRONIZE, ShareAll, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, out _, out _)));
            Assert.Equal(Hex(STATUS_SHARING_VIOLATION), Hex(Create(path, GENERIC_READ | SYNCHRONIZE, FILE_SHARE_READ, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT,
                out _, out _)));
            using (var compatible = Run("open", Win32(path), "80000000", "3"))
                Assert.Contains("opened", Finished(compatible));
            using (var refused = Run("open", Win32(path), "80000000", "1"))
                Assert.Contains($"error {ERROR_SHARING_VIOLATION}", Finished(refused));
            holder.Kill();
        }
        // The holder's rundown cleaned its open up: the exclusive open now succeeds (the kernel may take a moment to notice the death).
        var status = STATUS_SHARING_VIOLATION;
        var deadline = DateTime.UtcNow + Patience;
        while (status == STATUS_SHARING_VIOLATION && DateTime.UtcNow < deadline)
        {
            status = Create(path, ReadWrite | DELETE | SYNCHRONIZE, 0, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, out var handle, out _);
            if (handle != 0) Kernel32.CloseHandle(handle);
            if (status == STATUS_SHARING_VIOLATION) Thread.Sleep(20);
        }
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(status));
    }

    private ChildProcess Run(params string[] arguments) =>
        ChildProcess.StartDll("KernelBridge.TestClient.dll", null, ["file", fixture.Instance, .. arguments]);

    private static string Finished(ChildProcess child)
    {
        Assert.True(child.WaitForExit(Patience), $"the child did not finish; it said:{Environment.NewLine}{child.Output}");
        child.Process.WaitForExit();
        return child.Output;
    }
}
