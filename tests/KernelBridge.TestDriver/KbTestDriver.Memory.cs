using System.Runtime.InteropServices;
using System.Text;
using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.TestDriver;

/// <summary>
/// Memory a driver shares with its caller: pages it allocates and maps into the caller
/// (MmAllocatePagesForMdl + MmMapLockedPagesSpecifyCache(UserMode), unmapped at IRP_MJ_CLEANUP), a
/// caller's section it maps in system space by handle, and a named section it creates with a
/// kernel handle and maps into the caller (ZwCreateSection + ZwMapViewOfSection).
/// </summary>
public sealed partial class KbTestDriver
{
    private sealed class MemoryState
    {
        public Mdl? Pages;
        public ulong PagesAddress;
        public long SharedSection;
        public ulong SharedAddress;
    }

    private static NtStatus MemoryControl(Irp irp, CtlCode code, ReadOnlySpan<byte> input, MemoryState memory, int outputLength)
    {
        lock (memory)
        {
            if (code == KbTestInterface.IOCTL_KBTEST_MAP_PAGES) return MapPages(irp, input, memory, outputLength);
            if (code == KbTestInterface.IOCTL_KBTEST_SUM_PAGES) return SumPages(irp, memory, outputLength);
            if (code == KbTestInterface.IOCTL_KBTEST_FILL_SECTION) return FillSection(irp, input);
            if (code == KbTestInterface.IOCTL_KBTEST_SHARED_SECTION) return SharedSection(irp, input, memory, outputLength);
            if (code == KbTestInterface.IOCTL_KBTEST_FETCH_TWICE || code == KbTestInterface.IOCTL_KBTEST_CAPTURE_ONCE)
                return FetchTwice(irp, Io.GetCurrentIrpStackLocation(irp).Parameters.DeviceIoControl.Type3InputBuffer,
                    capture: code == KbTestInterface.IOCTL_KBTEST_CAPTURE_ONCE);
        }
        return Complete(irp, NtStatus.STATUS_INVALID_DEVICE_REQUEST, 0);
    }

    private static NtStatus MapPages(Irp irp, ReadOnlySpan<byte> input, MemoryState memory, int outputLength)
    {
        if (input.Length < sizeof(long) || outputLength < sizeof(ulong)) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
        if (memory.Pages is not null) return Complete(irp, NtStatus.STATUS_DEVICE_BUSY, 0);
        var size = MemoryMarshal.Read<long>(input);
        if (Mm.AllocatePagesForMdl(size) is not { } mdl) return Complete(irp, NtStatus.STATUS_INSUFFICIENT_RESOURCES, 0);
        var pages = Mm.GetSystemAddressForMdlSafe(mdl).Span;
        for (var i = 0; i < pages.Length; i++) pages[i] = (byte)(i * 7 + 1);
        var address = Mm.MapLockedPagesSpecifyCache(mdl, ProcessorMode.UserMode);
        if (address == 0)
        {
            Mm.FreePagesFromMdl(mdl);
            return Complete(irp, NtStatus.STATUS_INSUFFICIENT_RESOURCES, 0);
        }
        memory.Pages = mdl;
        memory.PagesAddress = address;
        MemoryMarshal.Write(irp.SystemBuffer.Span, in address);
        return Complete(irp, NtStatus.STATUS_SUCCESS, sizeof(ulong));
    }

    private static NtStatus SumPages(Irp irp, MemoryState memory, int outputLength)
    {
        if (memory.Pages is not { } mdl) return Complete(irp, NtStatus.STATUS_INVALID_DEVICE_STATE, 0);
        if (outputLength < sizeof(long)) return Complete(irp, NtStatus.STATUS_BUFFER_TOO_SMALL, 0);
        long sum = 0;
        foreach (var b in Mm.GetSystemAddressForMdlSafe(mdl).Span) sum += b;
        MemoryMarshal.Write(irp.SystemBuffer.Span, in sum);
        return Complete(irp, NtStatus.STATUS_SUCCESS, sizeof(long));
    }

    private static NtStatus FillSection(Irp irp, ReadOnlySpan<byte> input)
    {
        if (input.Length < Marshal.SizeOf<KbTestInterface.SectionFill>()) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
        var fill = MemoryMarshal.Read<KbTestInterface.SectionFill>(input);
        // The caller's handle, checked against the access a writer needs, as ObReferenceObjectByHandle(UserMode) does.
        var status = Ob.ReferenceObjectByHandle<SectionObject>(fill.Section, AccessMask.SECTION_MAP_WRITE, ObjectTypes.Section, ProcessorMode.UserMode,
            out var section);
        if (!status.IsSuccess) return Complete(irp, status, 0);
        try
        {
            ulong size = 0;
            status = Mm.MapViewInSystemSpace(section!, out var view, ref size);
            if (!status.IsSuccess) return Complete(irp, status, 0);
            try
            {
                if (fill.Offset < 0 || fill.Length < 0 || (ulong)(fill.Offset + fill.Length) > size) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
                Mm.SystemMemory(view + (ulong)fill.Offset, fill.Length).Span.Fill((byte)fill.Value);
                return Complete(irp, NtStatus.STATUS_SUCCESS, 0);
            }
            finally
            {
                Mm.UnmapViewInSystemSpace(view);
            }
        }
        finally
        {
            Ob.DereferenceObject(section!);
        }
    }

    private static NtStatus SharedSection(Irp irp, ReadOnlySpan<byte> input, MemoryState memory, int outputLength)
    {
        if (outputLength < sizeof(ulong) || input.IsEmpty) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
        if (memory.SharedSection != 0) return Complete(irp, NtStatus.STATUS_DEVICE_BUSY, 0);
        var name = $@"\BaseNamedObjects\{Encoding.Unicode.GetString(input)}";
        var status = Zw.CreateSection(out var section, AccessMask.SECTION_ALL_ACCESS, name,
            (uint)(ObjectAttributeFlags.OBJ_KERNEL_HANDLE | ObjectAttributeFlags.OBJ_OPENIF), 65536, PageProtection.PAGE_READWRITE, MemoryAttributes.SEC_COMMIT);
        if (status.IsError) return Complete(irp, status, 0);
        ulong address = 0;
        long offset = 0;
        ulong viewSize = 0;
        status = Zw.MapViewOfSection(section, Zw.CurrentProcess, ref address, 0, 0, ref offset, ref viewSize, SectionInherit.ViewUnmap, 0,
            PageProtection.PAGE_READWRITE);
        if (!status.IsSuccess)
        {
            Zw.Close(section);
            return Complete(irp, status, 0);
        }
        memory.SharedSection = section;
        memory.SharedAddress = address;
        MemoryMarshal.Write(irp.SystemBuffer.Span, in address);
        return Complete(irp, NtStatus.STATUS_SUCCESS, sizeof(ulong));
    }

    /// <summary>
    /// The double fetch: METHOD_NEITHER input is the caller's own memory, which the caller may change
    /// between two reads; a check on the first read says nothing about the second. Capturing the input
    /// once (copying it into the driver's own memory) is the cure.
    /// </summary>
    private static NtStatus FetchTwice(Irp irp, Memory<byte> input, bool capture)
    {
        if (input.Length < sizeof(int) || irp.UserBuffer.Length < 2 * sizeof(int)) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
        var captured = capture ? input[..sizeof(int)].ToArray() : null;
        var source = captured ?? input;
        var first = MemoryMarshal.Read<int>(source.Span);
        var deadline = Environment.TickCount64 + 2000;
        while (MemoryMarshal.Read<int>(input.Span) == first && Environment.TickCount64 < deadline) Thread.Sleep(1);
        var second = MemoryMarshal.Read<int>(source.Span);
        MemoryMarshal.Write(irp.UserBuffer.Span, in first);
        MemoryMarshal.Write(irp.UserBuffer.Span[sizeof(int)..], in second);
        return Complete(irp, NtStatus.STATUS_SUCCESS, 2 * sizeof(int));
    }

    /// <summary>IRP_MJ_CLEANUP runs in the closing process's context: what was mapped into it is unmapped there, then freed.</summary>
    private static void ReleaseMemory(MemoryState memory)
    {
        lock (memory)
        {
            if (memory.Pages is { } mdl)
            {
                Mm.UnmapLockedPages(memory.PagesAddress, mdl);
                Mm.FreePagesFromMdl(mdl);
                memory.Pages = null;
            }
            if (memory.SharedSection != 0)
            {
                Zw.UnmapViewOfSection(Zw.CurrentProcess, memory.SharedAddress);
                Zw.Close(memory.SharedSection);
                memory.SharedSection = 0;
            }
        }
    }
}
