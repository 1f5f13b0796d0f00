using System.Linq;

namespace KernelBridge.Generators;

/// <summary>
/// What each declaration gets: its service number (requests), the view of its variable data and
/// the one reader and writer of that data both sides use, and a trace formatter naming every field.
/// </summary>
internal static class MessageEmitter
{
    public static string Emit(MessageModel message)
    {
        var w = new CodeWriter();
        w.Line("namespace KernelBridge.Abi.Protocol;").Line();
        w.Open($"partial record struct {message.Name}");
        if (message.IsRequest)
        {
            w.Line("/// <summary>The service number (from [Syscall]).</summary>");
            w.Line($"public static Syscall Number => Syscall.{message.Service};").Line();
        }
        if (message.HasData) EmitData(w, message);
        EmitDescribe(w, message);
        w.Close();
        return w.ToString();
    }

    private static void EmitData(CodeWriter w, MessageModel message)
    {
        var items = message.Data;
        var parameters = string.Join(", ", items.Select(d => $"{d.SpanType} {d.ParameterName}"));

        w.Line($"/// <summary>The variable data behind a {message.Name}, in declaration order.</summary>");
        w.Open("public readonly ref struct Data");
        w.Open($"public Data({parameters})");
        foreach (var d in items) w.Line($"{d.Name} = {d.ParameterName};");
        w.Close().Line();
        foreach (var d in items) w.Line($"public {d.SpanType} {d.Name} {{ get; }}");
        w.Line();
        for (var i = 0; i < 3; i++)
        {
            var item = i < items.Length ? items[i] : null;
            var body = item is null ? "default" : item.Kind is DataKind.Bytes or DataKind.Utf8 ? item.Name : $"global::System.Runtime.InteropServices.MemoryMarshal.AsBytes({item.Name})";
            w.Line($"/// <summary>Data item {i + 1} as it travels (empty if there is none).</summary>");
            w.Line($"public global::System.ReadOnlySpan<byte> Part{i + 1} => {body};");
        }
        w.Close().Line();

        w.Line("/// <summary>This message with its length fields set for <paramref name=\"data\"/>.</summary>");
        var assignments = string.Join(", ", items.Select(d => $"{d.LengthField} = (uint){LengthOf(d, "data")}"));
        w.Line($"public readonly {message.Name} WithDataLengths(in Data data) => this with {{ {assignments} }};").Line();

        w.Line("/// <summary>How many bytes of data the length fields announce.</summary>");
        var sum = string.Join(" + ", items.Select(d => d.Kind == DataKind.Array
            ? $"(long){d.LengthField} * global::System.Runtime.CompilerServices.Unsafe.SizeOf<{d.ElementType}>()"
            : $"(long){d.LengthField}"));
        w.Line($"public readonly long DataLength => {sum};").Line();

        w.Line("/// <summary>The most data this message may carry (what the gate checks a frame's length against).</summary>");
        var max = string.Join(" + ", items.Select(d => d.Kind == DataKind.Array
            ? $"(long)({d.MaxExpression}) * global::System.Runtime.CompilerServices.Unsafe.SizeOf<{d.ElementType}>()"
            : $"(long)({d.MaxExpression})"));
        w.Line($"public static long MaxDataLength => {max};").Line();

        w.Line("/// <summary>");
        w.Line("/// Reads the data behind the message, checking each announced length against its limit and");
        w.Line("/// against what is there; any mismatch is a <see cref=\"ProtocolViolationException\"/>.");
        w.Line("/// </summary>");
        w.Open($"public static Data ReadData(in {message.Name} fixedPart, global::System.ReadOnlySpan<byte> data)");
        w.Line($"var reader = new WireReader(data, \"{message.Service ?? message.Name}\");");
        foreach (var d in items)
        {
            var take = d.Kind switch
            {
                DataKind.Unicode => $"reader.TakeChars(fixedPart.{d.LengthField}, {d.MaxExpression}, \"{d.Name}\")",
                DataKind.Array => $"reader.TakeArray<{d.ElementType}>(fixedPart.{d.LengthField}, {d.MaxExpression}, \"{d.Name}\")",
                _ => $"reader.TakeBytes(fixedPart.{d.LengthField}, {d.MaxExpression}, \"{d.Name}\")",
            };
            w.Line($"var {d.ParameterName}Item = {take};");
        }
        w.Line("reader.EnsureEnd();");
        w.Line($"return new Data({string.Join(", ", items.Select(d => d.ParameterName + "Item"))});");
        w.Close().Line();
    }

    private static string LengthOf(DataModel d, string data) => d.Kind switch
    {
        DataKind.Unicode => $"({data}.{d.Name}.Length * 2)",
        _ => $"{data}.{d.Name}.Length",
    };

    private static void EmitDescribe(CodeWriter w, MessageModel message)
    {
        w.Line("/// <summary>Appends every field (and, when it is there, every data item) for the trace.</summary>");
        w.Open($"public static void Describe(global::System.Text.StringBuilder text, global::System.ReadOnlySpan<byte> payload)");
        w.Open($"if (payload.Length < global::System.Runtime.CompilerServices.Unsafe.SizeOf<{message.Name}>())");
        w.Line($"text.Append(\"{message.Name} (\").Append(payload.Length).Append(\" bytes: too short)\");");
        w.Line("return;");
        w.Close();
        w.Line($"var message = global::System.Runtime.InteropServices.MemoryMarshal.Read<{message.Name}>(payload);");
        w.Line($"text.Append(\"{message.Name} {{ \");");
        var first = true;
        foreach (var f in message.Fields)
        {
            var separator = first ? "" : ", ";
            first = false;
            var value = f.Format switch
            {
                FieldFormat.Hex => $"WireFormat.Hex(message.{f.Name})",
                FieldFormat.Decimal => $"message.{f.Name}",
                _ => $"message.{f.Name}.ToString()",
            };
            w.Line($"text.Append(\"{separator}{f.Name} = \").Append({value});");
        }
        if (message.HasData)
        {
            w.Open("try");
            w.Line($"var data = ReadData(in message, payload[global::System.Runtime.CompilerServices.Unsafe.SizeOf<{message.Name}>()..]);");
            foreach (var d in message.Data)
            {
                var shown = d.Kind switch
                {
                    DataKind.Unicode => $"WireFormat.Quote(data.{d.Name})",
                    DataKind.Utf8 => $"WireFormat.QuoteUtf8(data.{d.Name})",
                    DataKind.Array => $"WireFormat.List(data.{d.Name})",
                    _ => $"WireFormat.Size(data.{d.Name})",
                };
                w.Line($"text.Append(\", {d.Name} = \").Append({shown});");
            }
            w.Close();
            w.Open("catch (ProtocolViolationException e)");
            w.Line("text.Append(\", (bad data: \").Append(e.Message).Append(')');");
            w.Close();
        }
        w.Line("text.Append(\" }\");");
        w.Close();
    }
}
