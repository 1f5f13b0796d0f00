namespace KernelBridge.Kernel.Io;

/// <summary>
/// Thrown into a verified driver caught breaking the rules (its bug check is already written), to
/// take it out of the routine it is in; the I/O manager catches it where it called the driver.
/// </summary>
internal sealed class VerifierStopException(string message) : Exception(message);
