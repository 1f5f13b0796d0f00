using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;

namespace KernelBridge.Client;

/// <summary>The result of an I/O request that did not fail: its status (possibly a warning) and byte count.</summary>
public readonly record struct IoResult(NtStatus Status, int Information)
{
    /// <summary>STATUS_BUFFER_OVERFLOW and friends: the data was cut short.</summary>
    public bool IsPartial => Status.IsWarning;
}

/// <summary>
/// An open device: the idiomatic face over NtCreateFile / NtDeviceIoControlFile / NtReadFile /
/// NtWriteFile. Errors throw <see cref="NtStatusException"/>; warnings come back in <see cref="IoResult"/>.
/// </summary>
public sealed unsafe class DeviceFile : IDisposable
{
    private DeviceFile(KernelHandle handle, string name)
    {
        Handle = handle;
        Name = name;
    }

    public KernelHandle Handle { get; }

    /// <summary>The name it was opened by.</summary>
    public string Name { get; }

    /// <summary>
    /// Opens a device by Win32 name (\\.\Echo) or NT name (\Device\Echo, \??\Echo), synchronously.
    /// <paramref name="desiredAccess"/> defaults to GENERIC_READ | GENERIC_WRITE.
    /// </summary>
    public static DeviceFile Open(string name, uint desiredAccess = AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE, GateClient? gate = null) =>
        Open(name, desiredAccess, gate, overlapped: false);

    /// <summary>
    /// Opens a device for overlapped I/O: the *Async methods complete without a thread per request.
    /// The file is bound to the connection's completion port, as .NET binds handles to its thread
    /// pool's on Windows, so its I/O is thread-agnostic: a pool thread that retires cancels nothing.
    /// (So the handle cannot take an APC routine, nor be associated with another port.)
    /// </summary>
    public static DeviceFile OpenOverlapped(string name, uint desiredAccess = AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE, GateClient? gate = null) =>
        Open(name, desiredAccess, gate, overlapped: true);

    private static DeviceFile Open(string name, uint desiredAccess, GateClient? gate, bool overlapped)
    {
        ArgumentNullException.ThrowIfNull(name);
        gate ??= GateClient.Current;
        var ntName = Kernel32.DosPathToNtPath(name) ?? name;
        nint handle;
        IO_STATUS_BLOCK iosb = default;
        var status = Ntdll.NtCreateFile(gate, &handle, desiredAccess | AccessMask.SYNCHRONIZE | AccessMask.FILE_READ_ATTRIBUTES,
            new ObjectAttributes(ntName), &iosb, 0, ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE,
            CreateDisposition.FILE_OPEN, (overlapped ? 0 : CreateOptions.FILE_SYNCHRONOUS_IO_NONALERT) | CreateOptions.FILE_NON_DIRECTORY_FILE);
        if (!status.IsSuccess)
            throw new NtStatusException(status, $"opening {name}",
                status == NtStatus.STATUS_PORT_CONNECTION_REFUSED ? Ntdll.LastConnectionError ?? "" : $"NT name {ntName}");
        var file = new DeviceFile(new KernelHandle(handle, gate), name) { IsOverlapped = overlapped };
        if (overlapped) file.BindToConnection();
        return file;
    }

    /// <summary>Thread-agnostic I/O: the file is bound to the connection's (silent) completion port.</summary>
    private void BindToConnection()
    {
        var information = new FILE_COMPLETION_INFORMATION { Port = Handle.Gate.BindingPort.Handle, Key = 0 };
        IO_STATUS_BLOCK iosb = default;
        var status = Ntdll.NtSetInformationFile(Handle.Gate, Handle.Value, &iosb, &information, (uint)sizeof(FILE_COMPLETION_INFORMATION),
            FileInformationClass.FileCompletionInformation);
        if (!status.IsSuccess)
        {
            Handle.Dispose();
            throw new NtStatusException(status, $"binding {Name} for overlapped I/O");
        }
    }

    /// <summary>Opened for overlapped I/O.</summary>
    public bool IsOverlapped { get; private init; }

    /// <summary>
    /// DeviceIoControl, awaited. On an overlapped handle nothing blocks while the driver holds the
    /// request; cancelling the token cancels it (CancelIoEx) and the task fails with STATUS_CANCELLED.
    /// The buffers stay pinned until the end.
    /// </summary>
    public ValueTask<IoResult> IoControlAsync(uint code, ReadOnlyMemory<byte> input, Memory<byte> output, CancellationToken cancellationToken = default)
    {
        if (!IsOverlapped) return IoControlOnPoolThread(code, input, output, cancellationToken);
        var io = AsyncIo.Rent(Handle.Gate, input, output, IoOperation.Control(code, Name));
        io.CancelWith(Handle.Gate, Handle.Value, cancellationToken);
        var status = Ntdll.NtDeviceIoControlFile(Handle.Gate, Handle.Value, 0, 0, 0, io.IoStatusBlock, code, input.IsEmpty ? null : io.InputPointer,
            (uint)input.Length, output.IsEmpty ? null : io.OutputPointer, (uint)output.Length, io.Completed);
        return io.Issued(status, cancellationToken);
    }

    public ValueTask<IoResult> IoControlAsync(CtlCode code, ReadOnlyMemory<byte> input, Memory<byte> output, CancellationToken cancellationToken = default) =>
        IoControlAsync(code.Value, input, output, cancellationToken);

    /// <summary>ReadFile at <paramref name="offset"/>, awaited (an overlapped file has no position of its own).</summary>
    public ValueTask<IoResult> ReadAsync(Memory<byte> buffer, long offset = 0, CancellationToken cancellationToken = default)
    {
        if (!IsOverlapped) return ReadOnPoolThread(buffer, cancellationToken);
        var io = AsyncIo.Rent(Handle.Gate, default, buffer, IoOperation.Read(Name));
        io.CancelWith(Handle.Gate, Handle.Value, cancellationToken);
        var status = Ntdll.NtReadFile(Handle.Gate, Handle.Value, 0, 0, 0, io.IoStatusBlock, io.OutputPointer, (uint)buffer.Length, &offset, null,
            io.Completed);
        return io.Issued(status == NtStatus.STATUS_END_OF_FILE ? NtStatus.STATUS_SUCCESS : status, cancellationToken);
    }

    /// <summary>WriteFile at <paramref name="offset"/>, awaited.</summary>
    public ValueTask<IoResult> WriteAsync(ReadOnlyMemory<byte> buffer, long offset = 0, CancellationToken cancellationToken = default)
    {
        if (!IsOverlapped) return WriteOnPoolThread(buffer, cancellationToken);
        var io = AsyncIo.Rent(Handle.Gate, buffer, default, IoOperation.Write(Name));
        io.CancelWith(Handle.Gate, Handle.Value, cancellationToken);
        var status = Ntdll.NtWriteFile(Handle.Gate, Handle.Value, 0, 0, 0, io.IoStatusBlock, io.InputPointer, (uint)buffer.Length, &offset, null,
            io.Completed);
        return io.Issued(status, cancellationToken);
    }

    // A synchronous handle blocks: the *Async methods lend it a pool thread. (Separate methods, so the
    // closures they need are not allocated on the overlapped path too.)
    private ValueTask<IoResult> IoControlOnPoolThread(uint code, ReadOnlyMemory<byte> input, Memory<byte> output, CancellationToken cancellationToken) =>
        new(Task.Run(() => IoControl(code, input.Span, output.Span), cancellationToken));

    private ValueTask<IoResult> ReadOnPoolThread(Memory<byte> buffer, CancellationToken cancellationToken) =>
        new(Task.Run(() => new IoResult(NtStatus.STATUS_SUCCESS, Read(buffer.Span)), cancellationToken));

    private ValueTask<IoResult> WriteOnPoolThread(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) =>
        new(Task.Run(() => new IoResult(NtStatus.STATUS_SUCCESS, Write(buffer.Span)), cancellationToken));

    /// <summary>
    /// A notification stream built on the inverted call: keeps one IOCTL pended in the driver and
    /// yields each completion's output, until the token is cancelled (which cancels the pended IRP).
    /// </summary>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> NotificationsAsync(uint code, ReadOnlyMemory<byte> input, int outputSize,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var output = new byte[outputSize];
            IoResult result;
            try
            {
                result = await IoControlAsync(code, input, output, cancellationToken).ConfigureAwait(false);
            }
            catch (NtStatusException e) when (e.Status == NtStatus.STATUS_CANCELLED && cancellationToken.IsCancellationRequested)
            {
                yield break;
            }
            yield return output.AsMemory(0, Math.Min(result.Information, outputSize));
        }
    }

    /// <summary>DeviceIoControl: sends <paramref name="input"/>, fills <paramref name="output"/>.</summary>
    public IoResult IoControl(uint code, ReadOnlySpan<byte> input, Span<byte> output)
    {
        IO_STATUS_BLOCK iosb = default;
        NtStatus status;
        fixed (byte* inPointer = input)
        fixed (byte* outPointer = output)
        {
            status = Ntdll.NtDeviceIoControlFile(Handle.Gate, Handle.Value, 0, 0, 0, &iosb, code, input.IsEmpty ? null : inPointer, (uint)input.Length,
                output.IsEmpty ? null : outPointer, (uint)output.Length, null);
        }
        IoOperation.Control(code, Name).ThrowIfError(status);
        return new IoResult(status, (int)iosb.Information);
    }

    public IoResult IoControl(CtlCode code, ReadOnlySpan<byte> input, Span<byte> output) => IoControl(code.Value, input, output);

    /// <summary>ReadFile: bytes read (0 at end of file).</summary>
    public int Read(Span<byte> buffer)
    {
        IO_STATUS_BLOCK iosb = default;
        NtStatus status;
        fixed (byte* pointer = buffer)
            status = Ntdll.NtReadFile(Handle.Gate, Handle.Value, 0, 0, 0, &iosb, pointer, (uint)buffer.Length, null, null, null);
        if (status == NtStatus.STATUS_END_OF_FILE) return 0;
        IoOperation.Read(Name).ThrowIfError(status);
        return (int)iosb.Information;
    }

    /// <summary>WriteFile: bytes written.</summary>
    public int Write(ReadOnlySpan<byte> buffer)
    {
        IO_STATUS_BLOCK iosb = default;
        NtStatus status;
        fixed (byte* pointer = buffer)
            status = Ntdll.NtWriteFile(Handle.Gate, Handle.Value, 0, 0, 0, &iosb, pointer, (uint)buffer.Length, null, null, null);
        IoOperation.Write(Name).ThrowIfError(status);
        return (int)iosb.Information;
    }

    /// <summary>A second handle to the same file object (no IRP_MJ_CREATE).</summary>
    public DeviceFile Duplicate()
    {
        nint target;
        var status = Ntdll.NtDuplicateObject(Handle.Gate, PseudoHandles.CurrentProcess, Handle.Value, PseudoHandles.CurrentProcess, &target, 0, 0,
            DuplicateOptions.DUPLICATE_SAME_ACCESS | DuplicateOptions.DUPLICATE_SAME_ATTRIBUTES);
        if (!status.IsSuccess) throw new NtStatusException(status, $"duplicating the handle to {Name}");
        return new DeviceFile(new KernelHandle(target, Handle.Gate), Name);
    }

    /// <summary>The file object's name as NtQueryObject reports it (\Device\Echo).</summary>
    public string QueryObjectName() => ObjectNamespace.QueryName(Handle.Value, Handle.Gate);

    /// <summary>A <see cref="Stream"/> over ReadFile and WriteFile.</summary>
    public Stream AsStream() => new DeviceStream(this);

    public void Dispose() => Handle.Dispose();
}
