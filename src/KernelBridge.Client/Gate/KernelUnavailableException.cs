namespace KernelBridge.Client.Gate;

/// <summary>The kernel could not be reached or started; the message says why and what to do.</summary>
public sealed class KernelUnavailableException(string message) : Exception(message);
