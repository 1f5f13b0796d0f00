using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.RamDisk;
using KernelBridge.Platform;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// Shared memory through the kernel: a 1 MiB read from the RAM disk into a pooled buffer (the
/// driver copies straight into the caller's memory), the same into ordinary memory (bounced: one
/// more copy), and mapping plus unmapping a 1 MiB view, beside memcpy and a raw mmap/munmap.
/// </summary>
internal static unsafe class MemoryMeasurements
{
    private const int TransferBytes = 1 << 20;

    /// <summary>mmap and munmap of 1 MiB of a memfd: the floor under mapping a view.</summary>
    public static BenchResult MapUnmapBaseline(BenchContext context)
    {
        using var memory = SharedMemory.Create("kbridge-bench-map", TransferBytes);
        return LatencySampler.Measure(context.Settings, () =>
        {
            var address = Platform.Interop.Libc.MapShared((int)memory.Descriptor.DangerousGetHandle(), TransferBytes, out _);
            Platform.Interop.Libc.Unmap(address, TransferBytes);
        });
    }

    /// <summary>NtMapViewOfSection + NtUnmapViewOfSection of a 1 MiB section.</summary>
    public static BenchResult MapUnmapView(BenchContext context) => KernelBridgeMeasurements.CountingKernelAllocation(context.Gate, () =>
    {
        using var section = Section.Create(TransferBytes, gate: context.Gate);
        var handle = section.Handle.Value;
        using var scope = GateClient.Use(context.Gate);
        return LatencySampler.Measure(context.Settings, () =>
        {
            nint address = 0;
            nuint size = 0;
            long offset = 0;
            var status = Ntdll.NtMapViewOfSection(handle, PseudoHandles.CurrentProcess, &address, 0, 0, &offset, &size, SectionInherit.ViewShare, 0,
                PageProtection.PAGE_READWRITE);
            if (!status.IsSuccess) throw new NtStatusException(status, "NtMapViewOfSection");
            Ntdll.NtUnmapViewOfSection(PseudoHandles.CurrentProcess, address);
        });
    });

    /// <summary>ReadFile of 1 MiB from \\.\RamDisk into a buffer from the connection's I/O buffer pool.</summary>
    public static BenchResult RamDiskReadPooled(BenchContext context) => KernelBridgeMeasurements.CountingKernelAllocation(context.Gate, () =>
    {
        var pool = context.Gate.IoBuffers ?? throw new BenchFailedException("the kernel gave no I/O buffer pool");
        using var buffer = pool.Rent(TransferBytes);
        return ReadRamDisk(context, buffer.Pointer);
    });

    /// <summary>ReadFile of 1 MiB from \\.\RamDisk into ordinary memory (bounced through the pool).</summary>
    public static BenchResult RamDiskReadOrdinary(BenchContext context) => KernelBridgeMeasurements.CountingKernelAllocation(context.Gate, () =>
    {
        var buffer = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(TransferBytes);
        try
        {
            return ReadRamDisk(context, buffer);
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.Free(buffer);
        }
    });

    private static BenchResult ReadRamDisk(BenchContext context, byte* buffer)
    {
        using var scope = GateClient.Use(context.Gate);
        var disk = Kernel32.CreateFile(RamDiskInterface.Win32Name, AccessMask.GENERIC_READ, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
        if (disk == Kernel32.INVALID_HANDLE_VALUE) throw new BenchFailedException($"opening {RamDiskInterface.Win32Name}: error {Kernel32.GetLastError()}");
        try
        {
            var overlapped = new OVERLAPPED();
            uint read = 0;
            if (!Kernel32.ReadFile(disk, buffer, TransferBytes, &read, &overlapped) || read != TransferBytes)
                throw new BenchFailedException($"ReadFile of the RAM disk: error {Kernel32.GetLastError()}, {read} bytes");
            return LatencySampler.Measure(context.Settings, () =>
            {
                var at = new OVERLAPPED();
                uint done = 0;
                Kernel32.ReadFile(disk, buffer, TransferBytes, &done, &at);
            });
        }
        finally
        {
            Kernel32.CloseHandle(disk);
        }
    }
}
