using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace KernelBridge.Generators;

/// <summary>Turns a declaration in KernelBridge.Abi.Protocol into a <see cref="MessageModel"/>.</summary>
internal static class MessageReader
{
    public const string Namespace = "KernelBridge.Abi.Protocol";
    private const string SyscallAttribute = Namespace + ".SyscallAttribute";
    private const string DataAttribute = Namespace + ".DataAttribute";
    private const string RequestInterface = Namespace + ".IRequest";

    public static bool IsCandidate(SyntaxNode node, CancellationToken _) =>
        node is RecordDeclarationSyntax { ParameterList: not null } record
        && record.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword)
        && record.Modifiers.Any(SyntaxKind.PartialKeyword);

    public static MessageModel? Read(GeneratorSyntaxContext context, CancellationToken cancellationToken)
    {
        var record = (RecordDeclarationSyntax)context.Node;
        if (context.SemanticModel.GetDeclaredSymbol(record, cancellationToken) is not INamedTypeSymbol type) return null;
        if (type.ContainingNamespace.ToDisplayString() != Namespace) return null;

        var fields = ImmutableArray.CreateBuilder<FieldModel>();
        var data = ImmutableArray.CreateBuilder<DataModel>();
        foreach (var parameterSyntax in record.ParameterList!.Parameters)
        {
            if (context.SemanticModel.GetDeclaredSymbol(parameterSyntax, cancellationToken) is not IParameterSymbol parameter) continue;
            fields.Add(new FieldModel(parameter.Name, parameter.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat), FormatOf(parameter.Type)));
            var attribute = parameter.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == DataAttribute);
            if (attribute is not null) data.Add(ReadData(parameter, attribute));
        }

        string? service = null;
        string? reply = null;
        var number = 0;
        var syscall = type.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == SyscallAttribute);
        if (syscall is not null)
        {
            number = System.Convert.ToInt32(syscall.ConstructorArguments[0].Value);
            service = type.Name.EndsWith("Request") ? type.Name.Substring(0, type.Name.Length - "Request".Length) : type.Name;
            var request = type.AllInterfaces.FirstOrDefault(i => i.OriginalDefinition.ToDisplayString().StartsWith(RequestInterface + "<"));
            reply = request?.TypeArguments[0].ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        }
        return new MessageModel(type.Name, service, number, reply, SummaryOf(record), new(fields.ToImmutable()), new(data.ToImmutable()));
    }

    private static DataModel ReadData(IParameterSymbol parameter, AttributeData attribute)
    {
        var name = (string)attribute.ConstructorArguments[0].Value!;
        var kind = DataKind.Bytes;
        string? element = null;
        var maxCount = 0;
        foreach (var argument in attribute.NamedArguments)
        {
            switch (argument.Key)
            {
                case "Kind":
                    kind = (DataKind)System.Convert.ToInt32(argument.Value.Value);
                    break;
                case "Element":
                    element = ((ITypeSymbol)argument.Value.Value!).ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
                    kind = DataKind.Array;
                    break;
                case "MaxCount":
                    maxCount = System.Convert.ToInt32(argument.Value.Value);
                    break;
            }
        }
        var max = maxCount > 0
            ? maxCount.ToString()
            : kind is DataKind.Unicode or DataKind.Utf8 ? "global::KernelBridge.Abi.Protocol.WireProtocol.MaxNameBytes" : "global::KernelBridge.Abi.Protocol.WireProtocol.MaxTransferLength";
        return new DataModel(name, parameter.Name, kind, element, max);
    }

    private static FieldFormat FormatOf(ITypeSymbol type) => type.SpecialType switch
    {
        SpecialType.System_UInt16 or SpecialType.System_UInt32 or SpecialType.System_UInt64 => FieldFormat.Hex,
        SpecialType.System_Int16 or SpecialType.System_Int32 or SpecialType.System_Int64 or SpecialType.System_Byte => FieldFormat.Decimal,
        _ => FieldFormat.Text,
    };

    /// <summary>The text of the declaration's /// summary (documentation parsing may be off, so read the trivia).</summary>
    private static string SummaryOf(RecordDeclarationSyntax record)
    {
        var text = new StringBuilder();
        foreach (var trivia in record.GetLeadingTrivia())
        {
            // Without documentation parsing, /// lines arrive as plain comments.
            if (!trivia.IsKind(SyntaxKind.SingleLineDocumentationCommentTrivia) && !(trivia.IsKind(SyntaxKind.SingleLineCommentTrivia) && trivia.ToString().StartsWith("///"))) continue;
            foreach (var line in trivia.ToFullString().Split('\n'))
            {
                var content = line.Trim();
                if (content.StartsWith("///")) content = content.Substring(3).Trim();
                if (content.Length == 0 || content.StartsWith("<summary>") && content.Length == 9 || content == "</summary>") continue;
                text.Append(text.Length == 0 ? "" : " ").Append(content.Replace("<summary>", "").Replace("</summary>", ""));
            }
        }
        return text.ToString();
    }
}
