namespace KernelBridge.Ddk;

/// <summary>PFLT_INSTANCE: one filter attached to one volume at its altitude.</summary>
public class FltInstance
{
    internal FltInstance(FltFilter filter, FltVolume volume)
    {
        Filter = filter;
        Volume = volume;
    }

    public FltFilter Filter { get; }
    public FltVolume Volume { get; }

    /// <summary>The altitude the instance runs at (the filter's).</summary>
    public string Altitude => Filter.Altitude;

    public override string ToString() => $"{Filter.DriverObject.DriverName} on {Volume.Name} at {Altitude}";
}
