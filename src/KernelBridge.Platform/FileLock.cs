using System.Diagnostics;
using KernelBridge.Platform.Interop;

namespace KernelBridge.Platform;

/// <summary>An flock(2) on a file: held until disposed or the process dies (the kernel releases it then).</summary>
public sealed class FileLock : IDisposable
{
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _file;

    private FileLock(Microsoft.Win32.SafeHandles.SafeFileHandle file) => _file = file;

    /// <summary>Takes the lock if it is free; null if another process holds it.</summary>
    public static FileLock? TryAcquire(string path)
    {
        var file = Open(path);
        if (Lock(file, Libc.LOCK_EX | Libc.LOCK_NB)) return new FileLock(file);
        file.Dispose();
        return null;
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the lock; null on timeout.</summary>
    public static FileLock? Acquire(string path, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        var file = Open(path);
        while (true)
        {
            if (Lock(file, Libc.LOCK_EX | Libc.LOCK_NB)) return new FileLock(file);
            if (watch.Elapsed >= timeout)
            {
                file.Dispose();
                return null;
            }
            Thread.Sleep(10);
        }
    }

    // A plain open(2): a FileStream would take (and test) a lock of its own on Linux.
    private static Microsoft.Win32.SafeHandles.SafeFileHandle Open(string path) => Libc.OpenForLock(path);

    private static bool Lock(Microsoft.Win32.SafeHandles.SafeFileHandle file, int operation)
    {
        var fd = (int)file.DangerousGetHandle();
        if (Libc.TryFlock(fd, operation, out var errno)) return true;
        if (errno == Libc.EWOULDBLOCK) return false;
        throw new IOException($"flock failed with errno {errno}");
    }

    public void Dispose() => _file.Dispose();
}
