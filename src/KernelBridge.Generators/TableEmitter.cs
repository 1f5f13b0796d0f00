using System.Collections.Immutable;
using System.Linq;

namespace KernelBridge.Generators;

/// <summary>
/// What the set of requests gets (Wine's make_requests): the service numbers, the table that
/// names and sizes them, the handler interface the kernel implements and the dispatch that decodes
/// a request and calls its handler.
/// </summary>
internal static class TableEmitter
{
    public static string EmitEnum(ImmutableArray<MessageModel> requests)
    {
        var w = new CodeWriter();
        w.Line("namespace KernelBridge.Abi.Protocol;").Line();
        w.Line("/// <summary>The system service numbers, one per [Syscall] declaration.</summary>");
        w.Open("public enum Syscall : ushort");
        foreach (var r in requests)
        {
            if (r.Summary.Length > 0) w.Line($"/// <summary>{r.Summary}</summary>");
            w.Line($"{r.Service} = {r.Number},");
        }
        w.Close();
        return w.ToString();
    }

    public static string EmitTable(ImmutableArray<MessageModel> requests, ImmutableArray<MessageModel> replies)
    {
        var w = new CodeWriter();
        w.Line("namespace KernelBridge.Abi.Protocol;").Line();
        w.Line("/// <summary>Every system service: its name, request size, largest request and trace formatter.</summary>");
        w.Open("public static partial class SyscallTable");
        w.Line("/// <summary>Every declared service, by number.</summary>");
        w.Line($"public static global::System.Collections.Generic.IReadOnlyList<Syscall> All {{ get; }} = [{string.Join(", ", requests.Select(r => "Syscall." + r.Service))}];").Line();

        EmitLookup(w, requests, "The service's name, or null for a number no declaration has.", "string? Name", r => $"\"{r.Service}\"", "null");
        EmitLookup(w, requests, "The fixed size of the service's request, or -1 for an unknown number.", "int RequestSize", r => SizeOf(r.Name), "-1");
        EmitLookup(w, requests, "The longest request payload (fixed part and data) the service can legitimately have, or -1 for an unknown number.",
            "long MaxRequestLength", r => SizeOf(r.Name) + (r.HasData ? $" + {r.Name}.MaxDataLength" : ""), "-1");
        EmitLookup(w, requests, "The service's reply type name, or null for an unknown number.", "string? ReplyName", r => $"\"{Short(r.Reply)}\"", "null");

        w.Line("/// <summary>A request as the trace shows it: every field named, and its data.</summary>");
        w.Open("public static string DescribeRequest(ushort number, global::System.ReadOnlySpan<byte> payload)");
        w.Line("var text = new global::System.Text.StringBuilder();");
        w.Open("switch (number)");
        foreach (var r in requests) w.Line($"case {r.Number}: {r.Name}.Describe(text, payload); break;");
        w.Line("default: text.Append(\"unknown service \").Append(number); break;");
        w.Close();
        w.Line("return text.ToString();");
        w.Close().Line();

        w.Line("/// <summary>A reply as the trace shows it.</summary>");
        w.Open("public static string DescribeReply(ushort number, global::System.ReadOnlySpan<byte> payload)");
        w.Line("var text = new global::System.Text.StringBuilder();");
        w.Open("switch (number)");
        foreach (var r in requests)
            if (r.Reply is not null) w.Line($"case {r.Number}: {r.Reply}.Describe(text, payload); break;");
        w.Line("default: text.Append(payload.Length).Append(\" bytes\"); break;");
        w.Close();
        w.Line("return text.ToString();");
        w.Close();
        w.Close();
        return w.ToString();
    }

    public static string EmitHandlers(ImmutableArray<MessageModel> requests)
    {
        var w = new CodeWriter();
        w.Line("namespace KernelBridge.Abi.Protocol;").Line();
        w.Line("/// <summary>");
        w.Line("/// The system service table as an interface: one handler per service, taking the decoded request");
        w.Line("/// and its checked data. The kernel implements it once; a service without a handler does not compile.");
        w.Line("/// </summary>");
        w.Open("public interface ISyscallHandlers<TContext>");
        foreach (var r in requests)
        {
            if (r.Summary.Length > 0) w.Line($"/// <summary>{r.Summary}</summary>");
            w.Line($"void {r.Service}(in TContext context, in {r.Name} request{(r.HasData ? $", {r.Name}.Data data" : "")});");
        }
        w.Close().Line();

        w.Line("/// <summary>Decodes a request by its service number and calls its handler (KiSystemService).</summary>");
        w.Open("public static class SyscallDispatch");
        w.Line("/// <summary>False for a number no service has; a request that breaks its declaration throws <see cref=\"ProtocolViolationException\"/>.</summary>");
        w.Line("public static bool Dispatch<TContext, THandlers>(THandlers handlers, in TContext context, ushort number, global::System.ReadOnlySpan<byte> payload)");
        w.Open("    where THandlers : ISyscallHandlers<TContext>");
        w.Open("switch (number)");
        foreach (var r in requests)
        {
            w.Open($"case {r.Number}:");
            w.Line($"var request = WireReader.ReadMessage<{r.Name}>(payload, \"{r.Service}\");");
            w.Line($"var rest = payload[global::System.Runtime.CompilerServices.Unsafe.SizeOf<{r.Name}>()..];");
            if (r.HasData) w.Line($"handlers.{r.Service}(in context, in request, {r.Name}.ReadData(in request, rest));");
            else
            {
                w.Line($"WireReader.EnsureEmpty(rest, \"{r.Service}\");");
                w.Line($"handlers.{r.Service}(in context, in request);");
            }
            w.Line("return true;");
            w.Close();
        }
        w.Line("default:");
        w.Line("    return false;");
        w.Close();
        w.Close();
        w.Close();
        return w.ToString();
    }

    /// <summary>A table lookup by service number: <c>public static {signature}(ushort number) => number switch { ... }</c>.</summary>
    private static void EmitLookup(CodeWriter w, ImmutableArray<MessageModel> requests, string summary, string signature,
        System.Func<MessageModel, string> value, string unknown)
    {
        w.Line($"/// <summary>{summary}</summary>");
        w.Open($"public static {signature}(ushort number) => number switch");
        foreach (var r in requests) w.Line($"{r.Number} => {value(r)},");
        w.Line($"_ => {unknown},");
        w.Close("};").Line();
    }

    private static string SizeOf(string type) => $"global::System.Runtime.CompilerServices.Unsafe.SizeOf<{type}>()";

    private static string? Short(string? fullName) => fullName is null ? null : fullName.Substring(fullName.LastIndexOf('.') + 1);
}
