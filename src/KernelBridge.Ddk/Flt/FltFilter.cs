namespace KernelBridge.Ddk;

/// <summary>
/// A registered minifilter (PFLT_FILTER): the opaque filter pointer FltRegisterFilter hands back and
/// the Flt calls name. The minifilter framework extends this type in its own partial file.
/// </summary>
public sealed partial class FltFilter
{
    internal FltFilter(DriverObject driver)
    {
        ArgumentNullException.ThrowIfNull(driver);
        Driver = driver;
    }

    /// <summary>The driver that registered the filter.</summary>
    public DriverObject Driver { get; }
}
