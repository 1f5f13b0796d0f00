namespace KernelBridge.Fuzz;

/// <summary>
/// What the fuzzer calls a crash: an exception that got past the kernel's own checks — one that
/// reached the connection's last-resort guard (a service failed "inside the kernel"), or escaped
/// the connection altogether — or a connection the kernel never finished serving (a hang).
/// </summary>
public sealed class KernelFaultException : Exception
{
    public KernelFaultException()
    {
    }

    public KernelFaultException(string message) : base(message)
    {
    }

    public KernelFaultException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>True for a connection that was not served to its end in time, rather than an exception.</summary>
    public bool IsHang { get; init; }
}
