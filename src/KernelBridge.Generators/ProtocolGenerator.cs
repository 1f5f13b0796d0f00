using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace KernelBridge.Generators;

/// <summary>
/// Runs in KernelBridge.Abi: from the request and reply declarations of KernelBridge.Abi.Protocol
/// it generates the service numbers, the data codecs both sides use, the service table, the
/// handler interface with its dispatch, and the trace formatter.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ProtocolGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var messages = context.SyntaxProvider
            .CreateSyntaxProvider(MessageReader.IsCandidate, MessageReader.Read)
            .Where(static m => m is not null)
            .Select(static (m, _) => m!);

        context.RegisterSourceOutput(messages, static (output, message) =>
            output.AddSource($"{message.Name}.g.cs", MessageEmitter.Emit(message)));

        context.RegisterSourceOutput(messages.Collect(), static (output, all) =>
        {
            if (all.IsEmpty) return;
            var requests = all.Where(m => m.IsRequest).OrderBy(m => m.Number).ToImmutableArray();
            var replies = all.Where(m => !m.IsRequest).ToImmutableArray();
            output.AddSource("Syscall.g.cs", TableEmitter.EmitEnum(requests));
            output.AddSource("SyscallTable.g.cs", TableEmitter.EmitTable(requests, replies));
            output.AddSource("SyscallHandlers.g.cs", TableEmitter.EmitHandlers(requests));
        });
    }
}
