namespace KernelBridge.Ddk;

/// <summary>
/// A user-mode APC queued to a thread: routine and three arguments (PKNORMAL_ROUTINE's shape).
/// A timer's completion routine names its timer, so the timer can take it back.
/// </summary>
internal readonly record struct KUserApc(ulong Routine, ulong Argument1, ulong Argument2, ulong Argument3, KTimer? Timer = null);
