using KernelBridge.Abi;

namespace KernelBridge.Client;

/// <summary>
/// What an I/O call of the idiomatic layer was (an IOCTL, a read, a write, and on which file), kept
/// as parts: the text an error carries is formatted only when there is an error.
/// </summary>
internal readonly struct IoOperation
{
    private enum Kind : byte
    {
        Control,
        Read,
        Write,
    }

    private readonly Kind _kind;
    private readonly uint _code;
    private readonly string _file;

    private IoOperation(Kind kind, uint code, string file)
    {
        _kind = kind;
        _code = code;
        _file = file;
    }

    public static IoOperation Control(uint code, string file) => new(Kind.Control, code, file);

    public static IoOperation Read(string file) => new(Kind.Read, 0, file);

    /// <summary>A read, for which the end of the file is not a failure but zero bytes.</summary>
    public bool IsRead => _kind == Kind.Read;

    public static IoOperation Write(string file) => new(Kind.Write, 0, file);

    /// <summary>Throws <see cref="NtStatusException"/> for NT_ERROR (warnings pass).</summary>
    public void ThrowIfError(NtStatus status)
    {
        if (status.IsError) throw Failure(status);
    }

    public NtStatusException Failure(NtStatus status) => new(status, ToString());

    public override string ToString() => _kind switch
    {
        Kind.Control => $"IOCTL 0x{_code:X8} on {_file}",
        Kind.Read => $"reading {_file}",
        _ => $"writing {_file}",
    };
}
