namespace KernelBridge.Kernel.Win32k;

/// <summary>
/// The user atom table: one per kernel (a window station's), shared by every process. Class names
/// and registered window messages take their numbers here, 0xC000 through 0xFFFF; the same name in
/// any case gives the same atom. Atoms are never deleted (RegisterWindowMessage's are not either).
/// Callers hold the user lock.
/// </summary>
internal sealed class AtomTable
{
    public const ushort First = 0xC000;
    public const ushort Last = 0xFFFF;

    private readonly Dictionary<string, ushort> _byName = new(StringComparer.OrdinalIgnoreCase);

    public int Count => _byName.Count;

    /// <summary>The atom of <paramref name="name"/>, added if new; 0 when the table is full.</summary>
    public ushort AddUnsynchronized(string name)
    {
        if (_byName.TryGetValue(name, out var atom)) return atom;
        if (_byName.Count > Last - First) return 0;
        atom = (ushort)(First + _byName.Count);
        _byName.Add(name, atom);
        return atom;
    }

    /// <summary>The atom of <paramref name="name"/>, or 0 if nobody added it.</summary>
    public ushort FindUnsynchronized(string name) => _byName.TryGetValue(name, out var atom) ? atom : (ushort)0;
}
