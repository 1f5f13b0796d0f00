namespace KernelBridge.Kernel.Ob;

/// <summary>A symbolic link: a name that the object manager replaces by its target while parsing.</summary>
internal sealed class SymbolicLinkObject(string target) : KernelObject(ObjectTypes.SymbolicLink)
{
    public string Target { get; } = target;
}
