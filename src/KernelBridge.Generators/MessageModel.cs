using System;

namespace KernelBridge.Generators;

/// <summary>How the trace formatter shows a fixed field.</summary>
internal enum FieldFormat
{
    Decimal,
    Hex,
    Text,
}

/// <summary>What variable data a length field announces.</summary>
internal enum DataKind
{
    Bytes = 0,
    Unicode = 1,
    Utf8 = 2,
    Array = 3,
}

/// <summary>One fixed field of a request or reply, in declaration order.</summary>
internal sealed record FieldModel(string Name, string Type, FieldFormat Format);

/// <summary>
/// One item of variable data: its name, the fixed field that holds its length (bytes, or elements
/// for an array), what it holds, and the most it may be (a C# expression).
/// </summary>
internal sealed record DataModel(string Name, string LengthField, DataKind Kind, string? ElementType, string MaxExpression)
{
    /// <summary>The span type the data is seen as.</summary>
    public string SpanType => Kind switch
    {
        DataKind.Unicode => "global::System.ReadOnlySpan<char>",
        DataKind.Array => $"global::System.ReadOnlySpan<{ElementType}>",
        _ => "global::System.ReadOnlySpan<byte>",
    };

    public string ParameterName => char.ToLowerInvariant(Name[0]) + Name.Substring(1);
}

/// <summary>
/// A request or reply declared in KernelBridge.Abi.Protocol: a partial record struct whose
/// positional fields are its fixed part and whose [Data] fields announce the variable data behind it.
/// A request also has a [Syscall] number and its reply type.
/// </summary>
internal sealed record MessageModel(
    string Name,
    string? Service,
    int Number,
    string? Reply,
    string Summary,
    EquatableArray<FieldModel> Fields,
    EquatableArray<DataModel> Data)
{
    public bool IsRequest => Service is not null;
    public bool HasData => Data.Length > 0;
}
