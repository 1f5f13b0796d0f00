namespace KernelBridge.Ddk;

/// <summary>PFLT_FILTER: a minifilter registered by <see cref="Flt.RegisterFilter"/>.</summary>
public class FltFilter
{
    internal FltFilter(DriverObject driver, FltRegistration registration)
    {
        DriverObject = driver;
        Registration = registration;
    }

    public DriverObject DriverObject { get; }
    public FltRegistration Registration { get; }
    public string Altitude => Registration.Altitude;

    public override string ToString() => $"filter {DriverObject.DriverName} at {Altitude}";
}
