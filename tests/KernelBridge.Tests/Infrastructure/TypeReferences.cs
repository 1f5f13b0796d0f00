using System.Reflection;
using System.Reflection.Emit;

namespace KernelBridge.Tests.Infrastructure;

/// <summary>
/// Every type a type uses: its base and interfaces, its fields, its members' signatures, and every
/// type, method or field token in its methods' IL (nested and compiler-generated types included, so
/// lambdas and state machines count as their owner's code).
/// </summary>
internal static class TypeReferences
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    private const BindingFlags Everything = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;

    public static HashSet<Type> Of(Type type)
    {
        var found = new HashSet<Type>();
        Collect(type, found);
        return found;
    }

    private static void Collect(Type type, HashSet<Type> found)
    {
        Add(type.BaseType, found);
        foreach (var i in type.GetInterfaces()) Add(i, found);
        foreach (var field in type.GetFields(Everything)) Add(field.FieldType, found);
        foreach (var property in type.GetProperties(Everything)) Add(property.PropertyType, found);
        foreach (var method in type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything)))
        {
            if (method is MethodInfo info) Add(info.ReturnType, found);
            foreach (var parameter in method.GetParameters()) Add(parameter.ParameterType, found);
            ScanIl(method, found);
        }
        foreach (var nested in type.GetNestedTypes(Everything)) Collect(nested, found);
    }

    private static void Add(Type? type, HashSet<Type> found)
    {
        while (type is not null && (type.HasElementType)) type = type.GetElementType();
        if (type is null || !found.Add(type)) return;
        if (type.IsGenericType)
            foreach (var argument in type.GetGenericArguments()) Add(argument, found);
    }

    private static void ScanIl(MethodBase method, HashSet<Type> found)
    {
        byte[]? il;
        try
        {
            il = method.GetMethodBody()?.GetILAsByteArray();
        }
        catch (InvalidOperationException)
        {
            return;
        }
        if (il is null) return;
        var module = method.Module;
        var typeArguments = method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var position = 0;
        while (position < il.Length)
        {
            short value = il[position++];
            if (value == 0xFE) value = (short)(0xFE00 | il[position++]);
            if (!OpCodesByValue.TryGetValue(value, out var opCode)) return;
            switch (opCode.OperandType)
            {
                case OperandType.InlineMethod:
                case OperandType.InlineField:
                case OperandType.InlineType:
                case OperandType.InlineTok:
                    Resolve(module, BitConverter.ToInt32(il, position), typeArguments, methodArguments, found);
                    position += 4;
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar:
                    position += 1;
                    break;
                case OperandType.InlineVar:
                    position += 2;
                    break;
                case OperandType.InlineI8:
                case OperandType.InlineR:
                    position += 8;
                    break;
                case OperandType.InlineSwitch:
                    var count = BitConverter.ToInt32(il, position);
                    position += 4 + 4 * count;
                    break;
                default:
                    position += 4;
                    break;
            }
        }
    }

    private static void Resolve(Module module, int token, Type[]? typeArguments, Type[]? methodArguments, HashSet<Type> found)
    {
        MemberInfo? member;
        try
        {
            member = module.ResolveMember(token, typeArguments, methodArguments);
        }
        catch (ArgumentException)
        {
            return;
        }
        catch (BadImageFormatException)
        {
            return;
        }
        switch (member)
        {
            case Type type:
                Add(type, found);
                break;
            case FieldInfo field:
                Add(field.DeclaringType, found);
                Add(field.FieldType, found);
                break;
            case MethodBase method:
                Add(method.DeclaringType, found);
                if (method is MethodInfo info) Add(info.ReturnType, found);
                foreach (var parameter in method.GetParameters()) Add(parameter.ParameterType, found);
                if (method.IsGenericMethod)
                    foreach (var argument in method.GetGenericArguments()) Add(argument, found);
                break;
        }
    }
}
