using System.Buffers.Binary;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Ddk;
using KernelBridge.Drivers.RamDisk;
using KernelBridge.Kernel;
using KernelBridge.Tests.Cli;
using KernelBridge.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using static KernelBridge.Tests.Io.IoHelpers;
using static KernelBridge.Tests.Io.RamDiskTest;

namespace KernelBridge.Tests.Io;

/// <summary>
/// \Device\RamDisk through the real kernel, with the rules Windows applies to a raw disk handle.
/// Such a handle reaches the disk through RAW, which completes a zero-length transfer at once and
/// moves a synchronous file's position by the bytes moved (WRK raw/ReadWrit.c, RawDisp.c
/// RawCompletionRoutine); the disk then refuses, with STATUS_INVALID_PARAMETER, an offset or a
/// length that is not a whole number of sectors and any transfer that does not lie wholly on the
/// media (Windows-driver-samples storage/class/disk DiskReadWriteVerification,
/// storage/ramdisk RamDiskCheckParameters). A disk has no end of file: a read at its end is an
/// error, not STATUS_END_OF_FILE.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class RamDiskTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static TheoryData<bool, long, int> Misaligned() => new()
    {
        { true, 1, Sector }, { false, 1, Sector }, { true, 511, Sector }, { false, 256, 2 * Sector },
        { true, 0, 1 }, { false, 0, 1 }, { true, 0, 511 }, { false, 0, 513 }, { true, 0, 1000 },
    };

    public static TheoryData<bool, long, int> OffTheMedia() => new()
    {
        { true, DiskSize, Sector }, { false, DiskSize, Sector }, { true, DiskSize + Sector, Sector },
        { false, 2 * DiskSize, Sector }, { true, DiskSize - Sector, 2 * Sector }, { false, DiskSize - Sector, 2 * Sector },
        { true, DiskSize - 4096, 8192 }, { true, -Sector, Sector }, { false, -Sector, Sector },
    };

    [Fact]
    public unsafe void The_disk_opens_by_its_dos_name_and_the_io_manager_reports_a_disk_device()
    {
        using var disk = Open();
        var buffer = new byte[8];
        var iosb = SentinelIosb();
        NtStatus status;
        fixed (byte* pointer = buffer)
            status = Ntdll.NtQueryVolumeInformationFile(disk, &iosb, pointer, 8, (FsInformationClass)FileFsDeviceInformation);

        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(status.Code));
        Assert.Equal(Hex(FILE_DEVICE_DISK), Hex(BinaryPrimitives.ReadUInt32LittleEndian(buffer)));
    }

    [Fact]
    public void Written_sectors_read_back_at_their_offset_through_WriteFile_and_ReadFile_and_the_Nt_calls()
    {
        using var disk = Open();
        var offset = NewRegion();
        var data = Pattern(3 * Sector, 0x11);

        Assert.True(WriteAt(disk, offset, data, out var written), $"WriteFile failed with {Kernel32.GetLastError()}");
        Assert.Equal((uint)data.Length, written);
        Assert.Equal(SentinelLastError, Kernel32.GetLastError());
        var buffer = new byte[data.Length];
        Assert.True(ReadAt(disk, offset, buffer, buffer.Length, out var read), $"ReadFile failed with {Kernel32.GetLastError()}");
        Assert.Equal((uint)data.Length, read);
        Assert.Equal(SentinelLastError, Kernel32.GetLastError());
        AssertBytes(data, buffer);

        var other = Pattern(2 * Sector, 0x5A);
        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtWriteAt(disk, offset + Sector, other, other.Length, ref iosb)));
        AssertIosb(iosb, Win.STATUS_SUCCESS, (ulong)other.Length);
        iosb = SentinelIosb();
        buffer = new byte[3 * Sector];
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtReadAt(disk, offset, buffer, buffer.Length, ref iosb)));
        AssertIosb(iosb, Win.STATUS_SUCCESS, (ulong)buffer.Length);
        AssertBytes([.. data.AsSpan(0, Sector), .. other], buffer);
    }

    [Theory]
    [MemberData(nameof(Misaligned))]
    public void An_offset_or_a_length_that_is_not_a_whole_number_of_sectors_is_STATUS_INVALID_PARAMETER_and_moves_nothing(bool read, long offset, int length)
    {
        offset += NewRegion();
        AssertRefused(read, offset, length);
    }

    [Theory]
    [MemberData(nameof(OffTheMedia))]
    public void A_transfer_that_does_not_lie_wholly_on_the_media_is_STATUS_INVALID_PARAMETER_and_moves_nothing(bool read, long offset, int length) =>
        AssertRefused(read, offset, length);

    [Fact]
    public void A_read_at_the_end_of_the_disk_is_an_error_not_an_end_of_file()
    {
        using var disk = Open();
        var buffer = new byte[Sector];

        Assert.False(ReadAt(disk, DiskSize, buffer, Sector, out var read), "a disk has no end of file to report as success");
        Assert.Equal(Win.ERROR_INVALID_PARAMETER, Kernel32.GetLastError());
        Assert.Equal(0u, read);
    }

    [Fact]
    public void The_last_sector_is_read_and_written_like_any_other()
    {
        using var disk = Open();
        var data = Pattern(Sector, 0x3C);

        Fill(disk, DiskSize - Sector, data);

        AssertBytes(data, Contents(disk, DiskSize - Sector, Sector));
        var tail = Contents(disk, DiskSize - 8 * Sector, 8 * Sector);
        AssertBytes(data, tail.AsSpan(7 * Sector));
    }

    [Theory]
    [InlineData(true, 0L)]
    [InlineData(false, 0L)]
    [InlineData(true, 1L)]
    [InlineData(false, 7L)]
    [InlineData(true, DiskSize)]
    [InlineData(false, DiskSize + Sector)]
    public void A_zero_length_read_or_write_succeeds_with_no_bytes_wherever_it_points(bool read, long offset)
    {
        using var disk = Open();
        var original = Pattern(8, 0x77);
        var buffer = (byte[])original.Clone();
        var iosb = SentinelIosb();

        var status = read ? NtReadAt(disk, offset, buffer, 0, ref iosb) : NtWriteAt(disk, offset, buffer, 0, ref iosb);

        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(status));
        AssertIosb(iosb, Win.STATUS_SUCCESS, 0);
        var ok = read ? ReadAt(disk, offset, buffer, 0, out var count) : WriteAt(disk, offset, buffer, 0, out count);
        Assert.True(ok, $"a zero-length transfer failed with {Kernel32.GetLastError()}");
        Assert.Equal(0u, count);
        AssertBytes(original, buffer);
    }

    [Fact]
    public void ReadFile_and_WriteFile_without_an_offset_go_on_from_the_synchronous_files_position()
    {
        using var disk = Open();
        var start = NewRegion();
        var first = Pattern(Sector, 0x21);
        var second = Pattern(2 * Sector, 0x42);
        SetPosition(disk, start);

        Assert.True(Win32Write(disk, first, out var written) && written == Sector, $"first WriteFile: {Kernel32.GetLastError()}");
        Assert.True(Win32Write(disk, second, out written) && written == 2 * Sector, $"second WriteFile: {Kernel32.GetLastError()}");
        Assert.Equal(start + 3 * Sector, Position(disk));

        SetPosition(disk, start);
        var buffer = new byte[Sector];
        Assert.True(Win32Read(disk, buffer, Sector, out var read) && read == Sector, $"first ReadFile: {Kernel32.GetLastError()}");
        AssertBytes(first, buffer);
        Assert.Equal(start + Sector, Position(disk));
        buffer = new byte[2 * Sector];
        Assert.True(Win32Read(disk, buffer, buffer.Length, out read) && read == 2 * Sector, $"second ReadFile: {Kernel32.GetLastError()}");
        AssertBytes(second, buffer);
        Assert.Equal(start + 3 * Sector, Position(disk));

        Assert.False(Win32Read(disk, buffer, 100, out _), "a partial sector");
        Assert.Equal(start + 3 * Sector, Position(disk));
    }

    [Fact]
    public void An_explicit_offset_on_a_synchronous_handle_moves_its_position_by_the_bytes_moved_as_RAW_does()
    {
        // RawCompletionRoutine adds Information to CurrentByteOffset; it does not set it to the
        // offset plus Information as a file system does (WRK raw/RawDisp.c; the same in Windows 10 and 11).
        using var disk = Open();
        var start = NewRegion();
        SetPosition(disk, start);

        Contents(disk, start + 16 * Sector, 2 * Sector);

        Assert.Equal(start + 2 * Sector, Position(disk));
    }

    [Fact]
    public void An_overlapped_handle_reads_and_writes_at_the_offsets_it_gives()
    {
        using var disk = Open(flags: Win.FILE_FLAG_OVERLAPPED);
        var offset = NewRegion();
        var data = Pattern(4 * Sector, 0x19);

        // The driver never pends: the calls complete inside the dispatch and answer at once.
        Assert.True(WriteAt(disk, offset, data, out var written), $"WriteFile failed with {Kernel32.GetLastError()}");
        Assert.Equal((uint)data.Length, written);
        var buffer = new byte[data.Length];
        Assert.True(ReadAt(disk, offset, buffer, buffer.Length, out var read), $"ReadFile failed with {Kernel32.GetLastError()}");
        Assert.Equal((uint)data.Length, read);
        AssertBytes(data, buffer);
    }

    [Fact]
    public void IOCTL_DISK_GET_LENGTH_INFO_answers_the_disks_length_in_eight_bytes()
    {
        using var disk = Open();
        var original = Pattern(16, 0x01);
        var output = (byte[])original.Clone();
        var returned = SentinelBytes;

        Assert.True(Win32Ioctl(disk, IOCTL_DISK_GET_LENGTH_INFO, null, output, ref returned), $"failed with {Kernel32.GetLastError()}");

        Assert.Equal((uint)SizeOfGetLengthInformation, returned);
        Assert.Equal(DiskSize, BinaryPrimitives.ReadInt64LittleEndian(output));
        AssertBytes(original.AsSpan(8), output.AsSpan(8));
        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtIoctl(disk, IOCTL_DISK_GET_LENGTH_INFO, null, new byte[8], ref iosb)));
        AssertIosb(iosb, Win.STATUS_SUCCESS, 8);
    }

    [Fact]
    public void IOCTL_DISK_GET_DRIVE_GEOMETRY_answers_512_byte_sectors_of_fixed_media_covering_the_disk()
    {
        using var disk = Open();
        var original = Pattern(32, 0x01);
        var output = (byte[])original.Clone();
        var returned = SentinelBytes;

        Assert.True(Win32Ioctl(disk, IOCTL_DISK_GET_DRIVE_GEOMETRY, null, output, ref returned), $"failed with {Kernel32.GetLastError()}");

        Assert.Equal((uint)SizeOfDiskGeometry, returned);
        var cylinders = BinaryPrimitives.ReadInt64LittleEndian(output);
        var tracksPerCylinder = BinaryPrimitives.ReadUInt32LittleEndian(output.AsSpan(12));
        var sectorsPerTrack = BinaryPrimitives.ReadUInt32LittleEndian(output.AsSpan(16));
        Assert.Equal(FixedMedia, BinaryPrimitives.ReadUInt32LittleEndian(output.AsSpan(8)));
        Assert.Equal((uint)Sector, BinaryPrimitives.ReadUInt32LittleEndian(output.AsSpan(20)));
        Assert.Equal(DiskSize, cylinders * tracksPerCylinder * sectorsPerTrack * Sector);
        AssertBytes(original.AsSpan(24), output.AsSpan(24));
    }

    [Theory]
    [InlineData(IOCTL_DISK_GET_DRIVE_GEOMETRY, SizeOfDiskGeometry - 1)]
    [InlineData(IOCTL_DISK_GET_DRIVE_GEOMETRY, 0)]
    [InlineData(IOCTL_DISK_GET_LENGTH_INFO, SizeOfGetLengthInformation - 1)]
    [InlineData(IOCTL_DISK_GET_LENGTH_INFO, 0)]
    public void A_disk_ioctl_whose_output_buffer_is_too_small_is_STATUS_BUFFER_TOO_SMALL_and_copies_nothing(uint code, int outputLength)
    {
        // ReactOS apitests kernel32/DeviceIoControl.c (passes on Windows): FALSE,
        // ERROR_INSUFFICIENT_BUFFER, nothing returned.
        using var disk = Open();
        var original = Pattern(32, 0x01);
        var output = (byte[])original.Clone();
        var returned = SentinelBytes;

        Assert.False(Win32Ioctl(disk, code, null, output, outputLength, ref returned));

        Assert.Equal(Win.ERROR_INSUFFICIENT_BUFFER, Kernel32.GetLastError());
        Assert.Equal(SentinelBytes, returned);
        AssertBytes(original, output);
        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_BUFFER_TOO_SMALL), Hex(NtIoctl(disk, code, null, output, outputLength, ref iosb)));
        AssertIosbUntouched(iosb);
        AssertBytes(original, output);
    }

    [Fact]
    public void IOCTL_DISK_GET_LENGTH_INFO_needs_read_access_and_IOCTL_DISK_GET_DRIVE_GEOMETRY_does_not()
    {
        using var disk = Open(access: 0);
        var output = new byte[SizeOfDiskGeometry];
        uint returned = 0;

        Assert.True(Win32Ioctl(disk, IOCTL_DISK_GET_DRIVE_GEOMETRY, null, output, ref returned), $"failed with {Kernel32.GetLastError()}");
        Assert.False(Win32Ioctl(disk, IOCTL_DISK_GET_LENGTH_INFO, null, output, ref returned));
        Assert.Equal(Win.ERROR_ACCESS_DENIED, Kernel32.GetLastError());
    }

    [Theory]
    [InlineData(IOCTL_DISK_GET_DRIVE_GEOMETRY_EX)]
    [InlineData(0x00222000u)]
    public void A_control_code_the_disk_does_not_know_is_STATUS_INVALID_DEVICE_REQUEST(uint code)
    {
        using var disk = Open();
        var output = new byte[64];
        uint returned = 0;

        Assert.False(Win32Ioctl(disk, code, null, output, ref returned));

        Assert.Equal(Win.ERROR_INVALID_FUNCTION, Kernel32.GetLastError());
        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_INVALID_DEVICE_REQUEST), Hex(NtIoctl(disk, code, null, output, ref iosb)));
    }

    [Fact]
    public void The_disk_codes_and_layouts_are_those_of_winioctl_h()
    {
        Assert.Equal(Hex(IOCTL_DISK_GET_DRIVE_GEOMETRY), Hex(DiskIoctl.IOCTL_DISK_GET_DRIVE_GEOMETRY.Value));
        Assert.Equal(Hex(IOCTL_DISK_GET_LENGTH_INFO), Hex(DiskIoctl.IOCTL_DISK_GET_LENGTH_INFO.Value));
        Assert.Equal(FixedMedia, (uint)MediaType.FixedMedia);
        Assert.Equal(SizeOfDiskGeometry, Marshal.SizeOf<DISK_GEOMETRY>());
        Assert.Equal(8, (int)Marshal.OffsetOf<DISK_GEOMETRY>(nameof(DISK_GEOMETRY.MediaType)));
        Assert.Equal(12, (int)Marshal.OffsetOf<DISK_GEOMETRY>(nameof(DISK_GEOMETRY.TracksPerCylinder)));
        Assert.Equal(16, (int)Marshal.OffsetOf<DISK_GEOMETRY>(nameof(DISK_GEOMETRY.SectorsPerTrack)));
        Assert.Equal(20, (int)Marshal.OffsetOf<DISK_GEOMETRY>(nameof(DISK_GEOMETRY.BytesPerSector)));
        Assert.Equal(SizeOfGetLengthInformation, Marshal.SizeOf<GET_LENGTH_INFORMATION>());
    }

    [Fact]
    public void The_kernel_option_ramdisk_size_chooses_the_size_at_load_and_a_new_disk_reads_as_zeros()
    {
        using var kernel = KernelProcess.Start(KernelProcess.NewInstanceName("ramdisk"), "--persistent", "--ramdisk-size", "1M");
        using var gate = kernel.Connect();
        using var disk = DeviceFile.Open(Win32Name, gate: gate);

        var length = new byte[SizeOfGetLengthInformation];
        Assert.Equal(SizeOfGetLengthInformation, disk.IoControl(IOCTL_DISK_GET_LENGTH_INFO, [], length).Information);
        Assert.Equal(1L << 20, BinaryPrimitives.ReadInt64LittleEndian(length));
        var geometry = new byte[SizeOfDiskGeometry];
        disk.IoControl(IOCTL_DISK_GET_DRIVE_GEOMETRY, [], geometry);
        Assert.Equal(1L << 20, BinaryPrimitives.ReadInt64LittleEndian(geometry)
            * BinaryPrimitives.ReadUInt32LittleEndian(geometry.AsSpan(12)) * BinaryPrimitives.ReadUInt32LittleEndian(geometry.AsSpan(16)) * Sector);
        var sectors = Pattern(8 * Sector, 0xEE);
        Assert.Equal(sectors.Length, disk.Read(sectors));
        Assert.All(sectors, b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData("1000")]
    [InlineData("0")]
    [InlineData("-512")]
    [InlineData("1.5M")]
    [InlineData("lots")]
    public void A_ramdisk_size_that_is_not_a_whole_number_of_sectors_is_refused_before_a_kernel_starts(string size)
    {
        var result = Kbridge.Run("kernel", "--instance", KernelProcess.NewInstanceName("ramdisk-size"), "--idle-timeout", "0", "--ramdisk-size", size);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--ramdisk-size", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unloading_the_driver_frees_the_disks_memory()
    {
        DeviceObject? device = null;
        await RunOwnKernel(RamDiskDriver.WithSize(1L << 20), driver => device = driver.DeviceObject, gate =>
        {
            using var disk = DeviceFile.Open(Win32Name, gate: gate);
            Assert.Equal(Sector, disk.Write(Pattern(Sector, 0x99)));
            Assert.False(device!.Extension<RamDiskExtension>().Memory.IsFreed);
        });

        var memory = device!.Extension<RamDiskExtension>().Memory;
        Assert.True(memory.IsFreed);
        Assert.False(memory.TryCopyOut(0, new byte[Sector]));
    }

    [Theory]
    [InlineData(1000L)]
    [InlineData(0L)]
    [InlineData(-(1L << 20))]
    public async Task A_size_the_disk_cannot_have_fails_its_load_and_leaves_no_device_or_link_behind(long size)
    {
        var status = NtStatus.STATUS_SUCCESS;
        await RunOwnKernel(RamDiskDriver.WithSize(size), null, gate =>
        {
            var error = Assert.Throws<NtStatusException>(() => DeviceFile.Open(Win32Name, gate: gate));
            status = error.Status;
            Assert.Equal(NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, DeviceFileStatus(@"\Device\RamDisk", gate));
        });

        Assert.Equal(NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, status);
    }

    private static NtStatus DeviceFileStatus(string name, GateClient gate)
    {
        try
        {
            DeviceFile.Open(name, gate: gate).Dispose();
            return NtStatus.STATUS_SUCCESS;
        }
        catch (NtStatusException e)
        {
            return e.Status;
        }
    }

    /// <summary>
    /// A kernel in this process with only the RAM disk built in, served until <paramref name="use"/>
    /// returns, then stopped (which unloads its drivers); every wait bounded.
    /// </summary>
    private static async Task RunOwnKernel(DriverInitialize entry, Action<DriverObject>? loaded, Action<GateClient> use)
    {
        var instance = KernelProcess.NewInstanceName("ramdisk-own");
        BuiltInDriver[] drivers =
        [
            new(RamDiskInterface.ServiceName, (driver, registryPath) =>
            {
                var status = entry(driver, registryPath);
                loaded?.Invoke(driver);
                return status;
            }),
        ];
        using var stop = new CancellationTokenSource();
        var kernel = Task.Run(() => KernelHost.RunAsync(new KernelOptions { Instance = instance, Persistent = true, BuiltInDrivers = drivers },
            NullLoggerFactory.Instance, stop.Token));
        try
        {
            using var gate = await ConnectAsync(instance, kernel);
            use(gate);
        }
        finally
        {
            await stop.CancelAsync();
            Assert.Equal(KernelExit.Stopped, await kernel.WaitAsync(Patience));
        }
    }

    private static async Task<GateClient> ConnectAsync(string instance, Task<KernelExit> kernel)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            if (kernel.IsCompleted) await kernel;
            try
            {
                return GateClient.Connect(instance, autoStart: false);
            }
            catch (KernelUnavailableException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Both faces refuse the transfer with STATUS_INVALID_PARAMETER; neither the caller's buffer nor the disk changes.</summary>
    private static void AssertRefused(bool read, long offset, int length)
    {
        using var disk = Open();
        // What the sectors around the transfer hold before it, where they are on the media.
        var start = Math.Clamp(offset / Sector * Sector, 0, DiskSize - 4 * Sector);
        var before = Contents(disk, start, 4 * Sector);
        var original = Pattern(length + 16, 0xA5);
        var buffer = (byte[])original.Clone();
        var iosb = SentinelIosb();

        var status = read ? NtReadAt(disk, offset, buffer, length, ref iosb) : NtWriteAt(disk, offset, buffer, length, ref iosb);

        Assert.Equal(Hex(Win.STATUS_INVALID_PARAMETER), Hex(status));
        AssertIosbUntouched(iosb);
        var ok = read ? ReadAt(disk, offset, buffer, length, out var count) : WriteAt(disk, offset, buffer, length, out count);
        Assert.False(ok, "the Win32 call should fail");
        Assert.Equal(Win.ERROR_INVALID_PARAMETER, Kernel32.GetLastError());
        Assert.Equal(0u, count);
        AssertBytes(original, buffer, "(the caller's buffer)");
        AssertBytes(before, Contents(disk, start, 4 * Sector), "(the disk)");
    }
}
