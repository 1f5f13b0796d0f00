using KernelBridge.Abi;
using KernelBridge.Client.Native;

namespace KernelBridge.Client.Win32;

public static unsafe partial class Kernel32
{
    /// <summary>
    /// DeviceIoControl as kernelbase does it: FALSE for anything but NT_SUCCESS (so
    /// STATUS_BUFFER_OVERFLOW is FALSE with ERROR_MORE_DATA), bytes returned set unless the status
    /// is an error, the last error untouched on success. With an OVERLAPPED the request is issued
    /// on it (Internal = STATUS_PENDING first); STATUS_PENDING gives ERROR_IO_PENDING.
    /// </summary>
    public static bool DeviceIoControl(nint device, uint ioControlCode, void* inBuffer, uint inBufferSize,
        void* outBuffer, uint outBufferSize, uint* bytesReturned, OVERLAPPED* overlapped)
    {
        NtStatus status;
        if (overlapped is not null)
        {
            overlapped->Internal = (nint)NtStatus.STATUS_PENDING.Value;
            overlapped->InternalHigh = 0;
            var iosb = (IO_STATUS_BLOCK*)overlapped;
            // A set low bit on hEvent asks for no completion-port packet.
            var apcContext = (overlapped->hEvent & 1) != 0 ? 0 : (nint)overlapped;
            status = Ntdll.NtDeviceIoControlFile(device, overlapped->hEvent & ~(nint)1, 0, apcContext, iosb, ioControlCode,
                inBuffer, inBufferSize, outBuffer, outBufferSize);
            if (bytesReturned is not null && !status.IsError) *bytesReturned = (uint)overlapped->InternalHigh;
        }
        else
        {
            IO_STATUS_BLOCK iosb = new() { Status = NtStatus.STATUS_PENDING.Value };
            status = Ntdll.NtDeviceIoControlFile(device, 0, 0, 0, &iosb, ioControlCode, inBuffer, inBufferSize, outBuffer, outBufferSize);
            status = AwaitOnFile(device, status, &iosb);
            if (bytesReturned is not null && !status.IsError) *bytesReturned = (uint)iosb.Information;
        }
        if (status == NtStatus.STATUS_PENDING && overlapped is not null) return Fail(status);
        return status.IsSuccess || Fail(status);
    }

    /// <summary>
    /// A call without an OVERLAPPED that pended (an overlapped handle): wait on the file for the end,
    /// so the IOSB on this stack frame is written before the frame goes.
    /// </summary>
    private static NtStatus AwaitOnFile(nint file, NtStatus status, IO_STATUS_BLOCK* iosb)
    {
        if (status != NtStatus.STATUS_PENDING) return status;
        while (Volatile.Read(ref iosb->Status) == NtStatus.STATUS_PENDING.Value)
        {
            var waited = Ntdll.NtWaitForSingleObject(file, false, null);
            if (waited.IsError) return waited;
        }
        return iosb->NtStatus;
    }

    /// <summary>DeviceIoControl over spans (synchronous). <paramref name="bytesReturned"/> is left alone on an error, as on Windows.</summary>
    public static bool DeviceIoControl(nint device, uint ioControlCode, ReadOnlySpan<byte> input, Span<byte> output, ref uint bytesReturned)
    {
        fixed (byte* inPointer = input)
        fixed (byte* outPointer = output)
        fixed (uint* returned = &bytesReturned)
        {
            return DeviceIoControl(device, ioControlCode, input.IsEmpty ? null : inPointer, (uint)input.Length,
                output.IsEmpty ? null : outPointer, (uint)output.Length, returned, null);
        }
    }

    /// <summary>
    /// ReadFile. Synchronous end of file is TRUE with 0 bytes; with an OVERLAPPED it is FALSE with
    /// ERROR_HANDLE_EOF. *bytesRead is zeroed first.
    /// </summary>
    public static bool ReadFile(nint file, void* buffer, uint numberOfBytesToRead, uint* numberOfBytesRead, OVERLAPPED* overlapped)
    {
        if (numberOfBytesRead is not null) *numberOfBytesRead = 0;
        if (overlapped is not null) return Overlapped(read: true, file, buffer, numberOfBytesToRead, numberOfBytesRead, overlapped);
        IO_STATUS_BLOCK iosb = new() { Status = NtStatus.STATUS_PENDING.Value };
        var status = Ntdll.NtReadFile(file, 0, 0, 0, &iosb, buffer, numberOfBytesToRead, null, null);
        status = AwaitOnFile(file, status, &iosb);
        if (status == NtStatus.STATUS_END_OF_FILE) return true;
        if (numberOfBytesRead is not null && !status.IsError) *numberOfBytesRead = (uint)iosb.Information;
        return status.IsSuccess || Fail(status);
    }

    public static bool ReadFile(nint file, Span<byte> buffer, out uint numberOfBytesRead)
    {
        uint read = 0;
        fixed (byte* pointer = buffer)
        {
            var ok = ReadFile(file, pointer, (uint)buffer.Length, &read, null);
            numberOfBytesRead = read;
            return ok;
        }
    }

    /// <summary>WriteFile. *bytesWritten is zeroed first.</summary>
    public static bool WriteFile(nint file, void* buffer, uint numberOfBytesToWrite, uint* numberOfBytesWritten, OVERLAPPED* overlapped)
    {
        if (numberOfBytesWritten is not null) *numberOfBytesWritten = 0;
        if (overlapped is not null) return Overlapped(read: false, file, buffer, numberOfBytesToWrite, numberOfBytesWritten, overlapped);
        IO_STATUS_BLOCK iosb = new() { Status = NtStatus.STATUS_PENDING.Value };
        var status = Ntdll.NtWriteFile(file, 0, 0, 0, &iosb, buffer, numberOfBytesToWrite, null, null);
        status = AwaitOnFile(file, status, &iosb);
        if (numberOfBytesWritten is not null && !status.IsError) *numberOfBytesWritten = (uint)iosb.Information;
        return status.IsSuccess || Fail(status);
    }

    /// <summary>
    /// ReadFile/WriteFile with an OVERLAPPED: issued at its offset with its event; STATUS_PENDING is
    /// ERROR_IO_PENDING; the byte count is reported only for a plain success.
    /// </summary>
    private static bool Overlapped(bool read, nint file, void* buffer, uint length, uint* transferred, OVERLAPPED* overlapped)
    {
        overlapped->Internal = (nint)NtStatus.STATUS_PENDING.Value;
        overlapped->InternalHigh = 0;
        long offset = ((long)overlapped->OffsetHigh << 32) | overlapped->Offset;
        // A set low bit on hEvent asks for no completion-port packet.
        var apcContext = (overlapped->hEvent & 1) != 0 ? 0 : (nint)overlapped;
        var status = read
            ? Ntdll.NtReadFile(file, overlapped->hEvent & ~(nint)1, 0, apcContext, (IO_STATUS_BLOCK*)overlapped, buffer, length, &offset, null)
            : Ntdll.NtWriteFile(file, overlapped->hEvent & ~(nint)1, 0, apcContext, (IO_STATUS_BLOCK*)overlapped, buffer, length, &offset, null);
        if (status == NtStatus.STATUS_PENDING) return Fail(status);
        if (transferred is not null && status == NtStatus.STATUS_SUCCESS) *transferred = (uint)overlapped->InternalHigh;
        return status.IsSuccess || Fail(status);
    }

    public static bool WriteFile(nint file, ReadOnlySpan<byte> buffer, out uint numberOfBytesWritten)
    {
        uint written = 0;
        fixed (byte* pointer = buffer)
        {
            var ok = WriteFile(file, pointer, (uint)buffer.Length, &written, null);
            numberOfBytesWritten = written;
            return ok;
        }
    }
}
