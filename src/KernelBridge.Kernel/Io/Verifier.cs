using System.Collections.Concurrent;

namespace KernelBridge.Kernel.Io;

/// <summary>
/// The driver verifier: which drivers it watches, and the state its checks keep — the driver
/// whose routine runs on this thread, the quarantine of freed IRPs, the IRPs verified drivers
/// hold, the object references they took. The checks themselves sit where the I/O manager already
/// is (IoManager.Verifier.cs); for a driver that is not verified they cost one flag test.
/// </summary>
internal sealed class DriverVerifier
{
    /// <summary>How many freed IRPs wait before they are reused (a touch within that window is caught).</summary>
    public const int QuarantineDepth = 64;

    [ThreadStatic] private static DriverObject? t_current;
    [ThreadStatic] private static Irp? t_irp;
    [ThreadStatic] private static IrpMajorFunction t_major;
    [ThreadStatic] private static uint t_ioctl;

    /// <summary>What a thread was doing before a verified dispatch routine began on it (restored when it returns).</summary>
    public readonly record struct Saved(DriverObject? Driver, Irp? Irp, IrpMajorFunction Major, uint IoControlCode);

    private readonly bool _all;
    private readonly HashSet<string> _included = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _excluded = new(StringComparer.OrdinalIgnoreCase);

    private readonly Lock _quarantineLock = new();
    private readonly Irp?[] _quarantine = new Irp?[QuarantineDepth];
    private int _quarantineNext;

    private readonly ConcurrentDictionary<Irp, (DriverObject Driver, int Incarnation)> _held = new();

    private readonly Lock _referenceLock = new();
    private readonly Dictionary<DriverObject, Dictionary<KernelObject, int>> _references = [];
    private int _trackedReferences;

    /// <param name="verified">"all", "none" or service names (case-insensitive).</param>
    /// <param name="unverified">Service names left out even under "all".</param>
    public DriverVerifier(IEnumerable<string> verified, IEnumerable<string> unverified, TimeSpan cancelTimeout)
    {
        foreach (var name in verified)
        {
            if (name.Equals("all", StringComparison.OrdinalIgnoreCase)) _all = true;
            else if (name.Equals("none", StringComparison.OrdinalIgnoreCase)) { _all = false; _included.Clear(); }
            else _included.Add(name);
        }
        foreach (var name in unverified) _excluded.Add(name);
        CancelTimeout = cancelTimeout;
    }

    public static DriverVerifier Off { get; } = new([], [], TimeSpan.FromSeconds(3));

    /// <summary>How long a verified driver has to complete an IRP once it is cancelled (or its driver unloads).</summary>
    public TimeSpan CancelTimeout { get; }

    public bool Covers(string serviceName) => !_excluded.Contains(serviceName) && (_all || _included.Contains(serviceName));

    /// <summary>The verified driver whose routine runs on this thread (null elsewhere).</summary>
    public static DriverObject? Current => t_current;

    public static Saved Enter(DriverObject driver, Irp irp, IrpMajorFunction major, uint ioctl)
    {
        var saved = new Saved(t_current, t_irp, t_major, t_ioctl);
        t_current = driver;
        t_irp = irp;
        t_major = major;
        t_ioctl = ioctl;
        return saved;
    }

    public static void Leave(in Saved saved)
    {
        t_current = saved.Driver;
        t_irp = saved.Irp;
        t_major = saved.Major;
        t_ioctl = saved.IoControlCode;
    }

    /// <summary>What <paramref name="irp"/> was for, when it is the one the verified dispatch routine on this thread was called with (its stack may be cleared by now).</summary>
    public static bool TryDispatched(Irp irp, out IrpMajorFunction major, out uint ioctl)
    {
        major = t_major;
        ioctl = t_ioctl;
        return ReferenceEquals(t_irp, irp);
    }

    // ---- Freed IRPs ----

    /// <summary>Puts a freed IRP in quarantine; returns the one it pushes out (to go back to the lookaside list), if any.</summary>
    public Irp? Quarantine(Irp irp)
    {
        lock (_quarantineLock)
        {
            var evicted = _quarantine[_quarantineNext];
            _quarantine[_quarantineNext] = irp;
            _quarantineNext = (_quarantineNext + 1) % QuarantineDepth;
            return evicted;
        }
    }

    // ---- IRPs verified drivers hold ----

    public void Holding(DriverObject driver, Irp irp) => _held[irp] = (driver, irp.Incarnation);

    public void Released(Irp irp)
    {
        if (!_held.IsEmpty) _held.TryRemove(irp, out _);
    }

    /// <summary>The IRPs <paramref name="driver"/> still holds (pending, not completed).</summary>
    public List<Irp> HeldBy(DriverObject driver)
    {
        var held = new List<Irp>();
        foreach (var (irp, owner) in _held)
            if (ReferenceEquals(owner.Driver, driver) && owner.Incarnation == irp.Incarnation && Volatile.Read(ref irp.CompletedFlag) == 0) held.Add(irp);
        return held;
    }

    // ---- Object references verified drivers take ----

    /// <summary>ObReferenceObject(ByHandle) by the verified driver running on this thread.</summary>
    public void Referenced(KernelObject obj)
    {
        if (t_current is not { } driver) return;
        lock (_referenceLock)
        {
            if (!_references.TryGetValue(driver, out var objects)) _references[driver] = objects = new(ReferenceEqualityComparer.Instance);
            objects[obj] = objects.GetValueOrDefault(obj) + 1;
            _trackedReferences++;
        }
    }

    /// <summary>ObDereferenceObject: balances the running driver's reference, else any verified driver's on the same object (a hand-off).</summary>
    public void Dereferenced(KernelObject obj)
    {
        if (Volatile.Read(ref _trackedReferences) == 0) return;
        lock (_referenceLock)
        {
            if (t_current is { } driver && _references.TryGetValue(driver, out var own) && Take(own, obj)) return;
            foreach (var objects in _references.Values)
                if (Take(objects, obj)) return;
        }
    }

    private bool Take(Dictionary<KernelObject, int> objects, KernelObject obj)
    {
        if (!objects.TryGetValue(obj, out var count)) return false;
        if (count <= 1) objects.Remove(obj);
        else objects[obj] = count - 1;
        _trackedReferences--;
        return true;
    }

    /// <summary>The references <paramref name="driver"/> still holds, forgotten here (the caller releases them).</summary>
    public List<(KernelObject Object, int Count)> TakeLeaks(DriverObject driver)
    {
        lock (_referenceLock)
        {
            if (!_references.Remove(driver, out var objects)) return [];
            var leaks = objects.Select(pair => (pair.Key, pair.Value)).ToList();
            _trackedReferences -= leaks.Sum(l => l.Item2);
            return leaks;
        }
    }
}
