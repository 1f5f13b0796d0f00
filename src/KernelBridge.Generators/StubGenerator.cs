using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace KernelBridge.Generators;

/// <summary>A request as the client stub sees it: names, and whether request and reply carry data.</summary>
internal sealed record StubModel(string Service, string Request, string Reply, bool RequestHasData, bool ReplyHasData);

/// <summary>
/// Runs in KernelBridge.Client: one stub per declared service (Syscalls.NtXxx), built on the
/// client's call path. The stub sets the request's data lengths from the data it is given and sends
/// the data as the declaration lays it out; the caller decodes a reply's data with the reply's
/// generated ReadData. An I/O reply is applied to the caller's memory by the reader thread.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class StubGenerator : IIncrementalGenerator
{
    private const string Protocol = MessageReader.Namespace;

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var stubs = context.CompilationProvider.Select(static (compilation, _) =>
        {
            if (compilation.AssemblyName != "KernelBridge.Client") return new EquatableArray<StubModel>(ImmutableArray<StubModel>.Empty);
            var syscall = compilation.GetTypeByMetadataName(Protocol + ".Syscall");
            if (syscall is null) return new EquatableArray<StubModel>(ImmutableArray<StubModel>.Empty);
            var models = ImmutableArray.CreateBuilder<StubModel>();
            foreach (var member in syscall.GetMembers().OfType<IFieldSymbol>().Where(f => f.HasConstantValue))
            {
                var request = compilation.GetTypeByMetadataName($"{Protocol}.{member.Name}Request");
                var contract = request?.AllInterfaces.FirstOrDefault(i => i.Name == "IRequest" && i.TypeArguments.Length == 1);
                if (request is null || contract?.TypeArguments[0] is not INamedTypeSymbol reply) continue;
                models.Add(new StubModel(member.Name, request.Name, reply.Name,
                    request.GetTypeMembers("Data").Length > 0, reply.GetTypeMembers("Data").Length > 0));
            }
            return new EquatableArray<StubModel>(models.ToImmutable());
        });
        context.RegisterSourceOutput(stubs, static (output, models) =>
        {
            if (models.Length > 0) output.AddSource("Syscalls.g.cs", Emit(models));
        });
    }

    private static string Emit(EquatableArray<StubModel> models)
    {
        var w = new CodeWriter();
        w.Line("using KernelBridge.Abi;");
        w.Line("using KernelBridge.Abi.Protocol;").Line();
        w.Line("namespace KernelBridge.Client.Gate;").Line();
        w.Line("/// <summary>The client stubs: one per system service, generated from its declaration.</summary>");
        w.Open("internal static class Syscalls");
        foreach (var m in models)
        {
            var data = m.RequestHasData ? $", in {m.Request}.Data data" : "";
            var request = m.RequestHasData ? "request.WithDataLengths(data)" : "request";
            var parts = m.RequestHasData ? "data.Part1, data.Part2" : "default, default";
            w.Line($"/// <summary>{m.Service}: sends a <see cref=\"{m.Request}\"/>{(m.RequestHasData ? " and its data" : "")}, answers its <see cref=\"{m.Reply}\"/>.</summary>");
            if (m.Reply == "IoTransferReply")
            {
                w.Line($"public static NtStatus {m.Service}(GateClient gate, in {m.Request} request{data}, IoTarget? target) =>");
                w.Line($"    gate.Call<{m.Request}, {m.Reply}>({request}, {parts}, out _, target);");
                w.Line($"/// <summary>{m.Service} without waiting: its end, at once or after it pended, reaches the target's Completed hook.</summary>");
                w.Line($"public static void Submit{m.Service}(GateClient gate, in {m.Request} request{data}, IoTarget target) =>");
                w.Line($"    gate.Submit<{m.Request}>({request}, {parts}, target);");
            }
            else if (m.ReplyHasData)
            {
                w.Line($"public static CallAnswer<{m.Reply}> {m.Service}(GateClient gate, in {m.Request} request{data}) =>");
                w.Line($"    gate.CallWithData<{m.Request}, {m.Reply}>({request}, {parts});");
            }
            else
            {
                w.Line($"public static NtStatus {m.Service}(GateClient gate, in {m.Request} request{data}, out {m.Reply} reply) =>");
                w.Line($"    gate.Call<{m.Request}, {m.Reply}>({request}, {parts}, out reply);");
            }
        }
        w.Close();
        return w.ToString();
    }
}
