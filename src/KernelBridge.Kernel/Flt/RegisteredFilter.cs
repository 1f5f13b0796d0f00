using System.Globalization;

namespace KernelBridge.Kernel.Flt;

/// <summary>The filter manager's FLT_FILTER: the registration laid out for lookup by major function.</summary>
internal sealed class RegisteredFilter : FltFilter
{
    private readonly FltOperationRegistration?[] _operations = new FltOperationRegistration?[(int)IrpMajorFunction.IRP_MJ_MAXIMUM_FUNCTION + 1];

    public RegisteredFilter(DriverObject driver, FltRegistration registration, decimal altitude) : base(driver, registration)
    {
        AltitudeValue = altitude;
        foreach (var operation in registration.OperationRegistration) _operations[(int)operation.MajorFunction] = operation;
    }

    /// <summary>The altitude as a number: instances are ordered by it, highest (nearest the caller) first.</summary>
    public decimal AltitudeValue { get; }

    public bool Started { get; set; }

    /// <summary>Set once FltUnregisterFilter began: no new instances, no new callbacks.</summary>
    public bool Unregistering { get; set; }

    /// <summary>Whether the filter can be called: registered, and its driver has not faulted.</summary>
    public bool Callable => !Unregistering && !DriverObject.Faulted;

    public FltOperationRegistration? Operation(IrpMajorFunction major) => (uint)major < (uint)_operations.Length ? _operations[(int)major] : null;

    public FltContextCleanupCallback? CleanupFor(FltContextType type)
    {
        foreach (var context in Registration.ContextRegistration)
            if ((context.ContextType & type) != 0) return context.CleanupCallback;
        return null;
    }

    public bool Registers(FltContextType type)
    {
        foreach (var context in Registration.ContextRegistration)
            if ((context.ContextType & type) != 0) return true;
        return false;
    }

    /// <summary>An altitude is a decimal number ("370030", "370030.5"), as the INF gives it.</summary>
    public static bool TryParseAltitude(string text, out decimal altitude) =>
        decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out altitude) && altitude > 0;
}
