using System.Runtime.ExceptionServices;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;

namespace KernelBridge.Tests.Win32k;

/// <summary>
/// Helpers for the message tests. A message queue belongs to a real thread (the kernel knows
/// threads by their Linux thread id), so every test runs its message code on fresh threads of its
/// own: a queue a test fills never reaches the next test, and every join is bounded.
/// </summary>
internal static class UserTest
{
    /// <summary>The connection to the message tests' own kernel (<see cref="Win32kKernelFixture"/>).</summary>
    public static GateClient Gate { get; set; } = null!;

    /// <summary>Makes the calling thread's User32 calls go to <see cref="Gate"/> until disposed.</summary>
    public static GateClient.ThreadScope Scope() => GateClient.Use(Gate);

    /// <summary>The bound on any single wait a test makes.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>A thread running <paramref name="body"/>; <see cref="Join"/> rethrows what it threw.</summary>
    public sealed class TestThread
    {
        private readonly Thread _thread;
        private ExceptionDispatchInfo? _failure;

        public TestThread(Action body)
        {
            _thread = new Thread(() =>
            {
                using var scope = Scope();
                try
                {
                    body();
                }
                catch (Exception e)
                {
                    _failure = ExceptionDispatchInfo.Capture(e);
                }
            }) { IsBackground = true };
            _thread.Start();
        }

        public void Join()
        {
            Assert.True(_thread.Join(Timeout), "a test thread did not finish in time");
            _failure?.Throw();
        }
    }

    public static TestThread Start(Action body) => new(body);

    /// <summary>Runs <paramref name="body"/> on a fresh thread and waits for it (bounded).</summary>
    public static void OnNewThread(Action body) => Start(body).Join();

    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    /// <summary>Registers a class with <paramref name="procedure"/> under a fresh name; its name.</summary>
    public static string RegisterClass(WNDPROC procedure, string prefix = "KbTestClass")
    {
        var name = UniqueName(prefix);
        var atom = User32.RegisterClassEx(new WNDCLASSEX { cbSize = WNDCLASSEX.Size, lpfnWndProc = procedure, lpszClassName = name });
        Assert.True(atom != 0, $"RegisterClassEx failed with {Kernel32.GetLastError()}");
        return name;
    }

    /// <summary>A message-only window of <paramref name="className"/> owned by the calling thread.</summary>
    public static nint MessageWindow(string className, string? name = null)
    {
        var hwnd = User32.CreateWindowEx(0, className, name, 0, 0, 0, 0, 0, User32.HWND_MESSAGE, 0, 0, 0);
        Assert.True(hwnd != 0, $"CreateWindowEx failed with {Kernel32.GetLastError()}");
        return hwnd;
    }

    /// <summary>Makes the calling thread's queue (its first User32 call), as PeekMessage does on Windows.</summary>
    public static void EnsureQueue() => User32.PeekMessage(out _, 0, 0, 0, User32.PM_NOREMOVE);

    /// <summary>Polls the kernel's message books until <paramref name="done"/> holds (bounded); the last counts.</summary>
    public static UserObjectCounts WaitForCounts(Func<UserObjectCounts, bool> done)
    {
        var deadline = DateTime.UtcNow + Timeout;
        var counts = User32.QueryUserObjectCounts(Gate);
        while (!done(counts) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
            counts = User32.QueryUserObjectCounts(Gate);
        }
        return counts;
    }

    public static uint LastError => Kernel32.GetLastError();
}
