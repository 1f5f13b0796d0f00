using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Mm;

/// <summary>
/// I/O on a buffer that lies in one of the caller's views goes by reference: the driver's MDL,
/// UserBuffer or Type3InputBuffer is the section itself, so nothing is copied (and METHOD_NEITHER
/// input is the caller's live memory: the double fetch). A buffered device gets one copy, made by
/// the kernel. The view's protection is checked as Windows probes a buffer.
/// </summary>
public sealed unsafe class ZeroCopyTests(TestDriverKernelFixture fixture) : IClassFixture<TestDriverKernelFixture>
{
    private const string RamDisk = @"\\.\RamDisk";

    private static nint OpenRamDisk()
    {
        var handle = Kernel32.CreateFile(RamDisk, AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, handle);
        return handle;
    }

    private static bool ReadAt(nint file, void* buffer, uint length, long offset, out uint read)
    {
        var overlapped = new OVERLAPPED { Offset = (uint)offset, OffsetHigh = (uint)(offset >> 32) };
        uint done = 0;
        var ok = Kernel32.ReadFile(file, buffer, length, &done, &overlapped);
        read = done;
        return ok;
    }

    private static bool WriteAt(nint file, void* buffer, uint length, long offset)
    {
        var overlapped = new OVERLAPPED { Offset = (uint)offset, OffsetHigh = (uint)(offset >> 32) };
        uint done = 0;
        return Kernel32.WriteFile(file, buffer, length, &done, &overlapped);
    }

    [Fact]
    public void Reads_and_writes_on_a_view_move_the_RAM_disks_data_straight_into_and_out_of_the_section()
    {
        using var scope = GateClient.Use(fixture.Gate);
        using var section = Section.Create(2 << 20, gate: fixture.Gate);
        using var view = section.MapView();
        var disk = OpenRamDisk();
        try
        {
            var source = view.Slice(0, 1 << 20);
            for (var i = 0; i < source.Length; i++) source[i] = (byte)(i * 31 + 5);
            Assert.True(WriteAt(disk, (void*)view.Address, 1 << 20, 3 * 512), $"WriteFile: {Kernel32.GetLastError()}");
            var target = (byte*)view.Address + (1 << 20);
            Assert.True(ReadAt(disk, target, 1 << 20, 3 * 512, out var read), $"ReadFile: {Kernel32.GetLastError()}");
            Assert.Equal(1u << 20, read);
            Assert.True(view.Slice(1 << 20, 1 << 20).SequenceEqual(view.Slice(0, 1 << 20)));

            // Into managed memory (copied), the same bytes.
            var managed = new byte[4096];
            fixed (byte* p = managed) Assert.True(ReadAt(disk, p, 4096, 3 * 512, out _));
            Assert.True(managed.AsSpan().SequenceEqual(view.Slice(0, 4096)));
        }
        finally
        {
            Kernel32.CloseHandle(disk);
        }
    }

    [Fact]
    public void Reading_into_a_read_only_view_is_an_access_violation_and_writing_from_it_works()
    {
        using var scope = GateClient.Use(fixture.Gate);
        using var section = Section.Create(65536, gate: fixture.Gate);
        using var writable = section.MapView();
        using var readOnly = section.MapView(protection: PageProtection.PAGE_READONLY);
        writable.Span.Fill(0x33);
        var disk = OpenRamDisk();
        try
        {
            Assert.False(ReadAt(disk, (void*)readOnly.Address, 4096, 0, out _));
            Assert.Equal((uint)Win32Error.ERROR_NOACCESS, Kernel32.GetLastError());
            Assert.True(WriteAt(disk, (void*)readOnly.Address, 4096, 0));
            var back = new byte[4096];
            fixed (byte* p = back) Assert.True(ReadAt(disk, p, 4096, 0, out _));
            Assert.All(back, b => Assert.Equal(0x33, b));
        }
        finally
        {
            Kernel32.CloseHandle(disk);
        }
    }

    [Fact]
    public void METHOD_NEITHER_input_in_a_view_is_the_callers_live_memory_the_double_fetch_and_capturing_once_cures_it()
    {
        using var scope = GateClient.Use(fixture.Gate);
        using var section = Section.Create(65536, gate: fixture.Gate);
        using var view = section.MapView();
        var device = KbTest.Open(KbTest.NewTag());
        try
        {
            (int First, int Second) Fetch(CtlCode code)
            {
                view.Write(0, 4);
                var output = new byte[8];
                var changer = new Thread(() =>
                {
                    Thread.Sleep(100);
                    view.Write(0, 1000);
                });
                changer.Start();
                uint returned = 0;
                bool ok;
                fixed (byte* o = output) ok = Kernel32.DeviceIoControl(device, code.Value, (void*)view.Address, 4, o, 8, &returned, null);
                Assert.True(changer.Join(TimeSpan.FromSeconds(10)));
                Assert.True(ok, $"{code}: {Kernel32.GetLastError()}");
                return (MemoryMarshal.Read<int>(output), MemoryMarshal.Read<int>(output.AsSpan(4)));
            }
            // The driver checked 4 and then used 1000: what a check-then-use on caller memory allows.
            Assert.Equal((4, 1000), Fetch(KbTestInterface.IOCTL_KBTEST_FETCH_TWICE));
            Assert.Equal((4, 4), Fetch(KbTestInterface.IOCTL_KBTEST_CAPTURE_ONCE));
        }
        finally
        {
            Kernel32.CloseHandle(device);
        }
    }

    [Fact]
    public void Output_in_a_view_for_buffered_and_direct_IOCTLs_is_written_in_place_by_the_rules_of_each_method()
    {
        using var scope = GateClient.Use(fixture.Gate);
        using var section = Section.Create(65536, gate: fixture.Gate);
        using var view = section.MapView();
        var device = KbTest.Open(KbTest.NewTag());
        try
        {
            foreach (var code in new[] { KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED, KbTestInterface.IOCTL_KBTEST_RETURN_OUT_DIRECT })
            {
                view.Span[..64].Fill(0xEE);
                // The driver fills 6 bytes and reports 4: buffered copies back 4, direct leaves all 6 it wrote in place.
                var input = KbTest.Bytes(new ReturnRequest(NtStatus.STATUS_SUCCESS.Value, NtStatus.STATUS_SUCCESS.Value, 4, PendMode.None, 0, 0x5A, 6));
                uint returned = 0;
                fixed (byte* p = input)
                {
                    Assert.True(Kernel32.DeviceIoControl(device, code.Value, p, (uint)input.Length, (void*)view.Address, 64, &returned, null),
                        $"{code}: {Kernel32.GetLastError()}");
                }
                Assert.Equal(4u, returned);
                var expected = code == KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED ? 4 : 6;
                Assert.All(view.Span[..expected].ToArray(), b => Assert.Equal(0x5A, b));
                Assert.Equal(0xEE, view.Span[expected]);
            }
        }
        finally
        {
            Kernel32.CloseHandle(device);
        }
    }
    [Fact]
    public void Large_transfers_on_ordinary_memory_bounce_through_the_pool_and_pooled_buffers_go_by_reference()
    {
        using var scope = GateClient.Use(fixture.Gate);
        var disk = OpenRamDisk();
        try
        {
            var written = new byte[1 << 20];
            new Random(42).NextBytes(written);
            fixed (byte* p = written) Assert.True(WriteAt(disk, p, (uint)written.Length, 1 << 20), $"WriteFile: {Kernel32.GetLastError()}");
            var read = new byte[1 << 20];
            fixed (byte* p = read) Assert.True(ReadAt(disk, p, (uint)read.Length, 1 << 20, out var count));
            Assert.True(read.AsSpan().SequenceEqual(written));

            var pool = fixture.Gate.IoBuffers;
            Assert.NotNull(pool);
            using (var buffer = pool.Rent(1 << 20))
            {
                Assert.True(ReadAt(disk, buffer.Pointer, 1 << 20, 1 << 20, out var pooled));
                Assert.Equal(1u << 20, pooled);
                Assert.True(buffer.Span.SequenceEqual(written));
            }
            // Every bounce buffer went back: the whole pool is free again.
            using var all = pool.TryRent((int)pool.Length);
            Assert.NotNull(all);
        }
        finally
        {
            Kernel32.CloseHandle(disk);
        }
    }
}
