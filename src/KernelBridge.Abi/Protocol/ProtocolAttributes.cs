namespace KernelBridge.Abi.Protocol;

/// <summary>
/// Declares a system call: the struct is its request (a partial record struct implementing
/// <see cref="IRequest{TReply}"/>, named after the service plus "Request"), the number its place in
/// the service table. Everything else about the call is generated from the declaration.
/// </summary>
[AttributeUsage(AttributeTargets.Struct, Inherited = false)]
public sealed class SyscallAttribute(ushort number) : Attribute
{
    public ushort Number { get; } = number;
}

/// <summary>What a data item holds.</summary>
public enum DataKind
{
    /// <summary>Raw bytes; the length field counts bytes.</summary>
    Bytes = 0,
    /// <summary>A UTF-16 string; the length field counts bytes (even).</summary>
    Unicode = 1,
    /// <summary>A UTF-8 string; the length field counts bytes.</summary>
    Utf8 = 2,
}

/// <summary>
/// Marks a fixed field of a request or reply as the length of a data item that follows the fixed
/// part. Items follow in declaration order. With <see cref="Element"/> the item is an array of that
/// type and the field counts elements. <see cref="MaxCount"/> bounds the field (default: the
/// transfer limit for bytes, the name limit for strings).
/// </summary>
[AttributeUsage(AttributeTargets.Parameter, Inherited = false)]
public sealed class DataAttribute(string name) : Attribute
{
    public string Name { get; } = name;
    public DataKind Kind { get; set; }
    public Type? Element { get; set; }
    public int MaxCount { get; set; }
}
