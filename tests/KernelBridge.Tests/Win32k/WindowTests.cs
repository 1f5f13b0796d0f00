using KernelBridge.Abi;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Win32k;

/// <summary>
/// Window classes and message-only windows: RegisterClassEx and its errors, CreateWindowEx with
/// HWND_MESSAGE (WM_NCCREATE and WM_CREATE first), PostMessage and DispatchMessage on the owning
/// thread, DestroyWindow (only by its thread), handles that stay invalid, IsWindow,
/// GetWindowThreadProcessId, FindWindowEx, RegisterWindowMessage (Microsoft's documentation of each;
/// Wine user32/tests/class.c and win.c test_message_window, msg.c).
/// </summary>
[Collection(Win32kCollection.Name)]
public sealed class WindowTests
{
    private const uint WM_USER = User32.WM_USER;

    [Fact]
    public void RegisterClassEx_gives_an_atom_and_refuses_a_name_the_process_has_in_any_case() => UserTest.OnNewThread(() =>
    {
        var name = UserTest.UniqueName("KbClass");
        var atom = User32.RegisterClassEx(new WNDCLASSEX { cbSize = WNDCLASSEX.Size, lpfnWndProc = User32.DefWindowProc, lpszClassName = name });
        Assert.InRange(atom, (ushort)0xC000, (ushort)0xFFFF);
        Assert.Equal(0, User32.RegisterClassEx(new WNDCLASSEX { cbSize = WNDCLASSEX.Size, lpfnWndProc = User32.DefWindowProc, lpszClassName = name.ToUpperInvariant() }));
        Assert.Equal((uint)Win32Error.ERROR_CLASS_ALREADY_EXISTS, UserTest.LastError);
        Assert.Equal(0, User32.RegisterClassEx(new WNDCLASSEX { cbSize = 12, lpfnWndProc = User32.DefWindowProc, lpszClassName = name + "x" }));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_PARAMETER, UserTest.LastError);
        Assert.True(User32.UnregisterClass(name, 0));
        Assert.False(User32.UnregisterClass(name, 0));
        Assert.Equal((uint)Win32Error.ERROR_CLASS_DOES_NOT_EXIST, UserTest.LastError);
    });

    [Fact]
    public void CreateWindowEx_of_an_unregistered_class_fails_with_ERROR_CANNOT_FIND_WND_CLASS() => UserTest.OnNewThread(() =>
    {
        Assert.Equal(0, User32.CreateWindowEx(0, UserTest.UniqueName("NoSuchClass"), null, 0, 0, 0, 0, 0, User32.HWND_MESSAGE, 0, 0, 0));
        Assert.Equal((uint)Win32Error.ERROR_CANNOT_FIND_WND_CLASS, UserTest.LastError);
    });

    [Fact]
    public void A_message_only_window_gets_WM_NCCREATE_WM_CREATE_and_its_posted_messages_on_its_own_thread() => UserTest.OnNewThread(() =>
    {
        var seen = new List<(uint Msg, nint W, nint L, uint Thread)>();
        var className = UserTest.RegisterClass((hwnd, msg, w, l) =>
        {
            seen.Add((msg, w, msg is User32.WM_NCCREATE or User32.WM_CREATE ? 0 : l, Kernel32.GetCurrentThreadId()));
            return msg == WM_USER + 1 ? 77 : User32.DefWindowProc(hwnd, msg, w, l);
        });
        var hwnd = UserTest.MessageWindow(className, "posted");
        Assert.Equal([User32.WM_NCCREATE, User32.WM_CREATE], seen.Select(s => s.Msg));
        Assert.True(User32.PostMessage(hwnd, WM_USER + 1, 5, 6));
        Assert.Equal(1, User32.GetMessage(out var msg, 0, 0, 0));
        Assert.Equal(hwnd, msg.hwnd);
        Assert.Equal(77, User32.DispatchMessage(msg));
        Assert.Equal((WM_USER + 1, (nint)5, (nint)6, Kernel32.GetCurrentThreadId()), seen[^1]);
        Assert.True(User32.DestroyWindow(hwnd));
        Assert.Equal([User32.WM_DESTROY, User32.WM_NCDESTROY], seen.Skip(3).Select(s => s.Msg));
    });

    [Fact]
    public void A_window_whose_WM_NCCREATE_returns_0_is_not_created() => UserTest.OnNewThread(() =>
    {
        var className = UserTest.RegisterClass((hwnd, msg, w, l) => 0);
        Assert.Equal(0, User32.CreateWindowEx(0, className, null, 0, 0, 0, 0, 0, User32.HWND_MESSAGE, 0, 0, 0));
    });

    [Fact]
    public void A_destroyed_window_is_invalid_for_PostMessage_SendMessage_and_IsWindow() => UserTest.OnNewThread(() =>
    {
        var className = UserTest.RegisterClass(User32.DefWindowProc);
        var hwnd = UserTest.MessageWindow(className);
        Assert.True(User32.IsWindow(hwnd));
        Assert.True(User32.DestroyWindow(hwnd));
        Assert.False(User32.IsWindow(hwnd));
        Assert.False(User32.PostMessage(hwnd, WM_USER, 0, 0));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_WINDOW_HANDLE, UserTest.LastError);
        Assert.Equal(0, User32.SendMessage(hwnd, WM_USER, 0, 0));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_WINDOW_HANDLE, UserTest.LastError);
        Assert.False(User32.DestroyWindow(hwnd));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_WINDOW_HANDLE, UserTest.LastError);
        Assert.False(User32.PostMessage(0x1234_5678, WM_USER, 0, 0));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_WINDOW_HANDLE, UserTest.LastError);
        // A new window never takes the old handle.
        var next = UserTest.MessageWindow(className);
        Assert.NotEqual(hwnd, next);
        Assert.True(User32.DestroyWindow(next));
    });

    [Fact]
    public void Only_the_owning_thread_may_destroy_a_window()
    {
        using var scope = UserTest.Scope();
        nint hwnd = 0;
        using var created = new ManualResetEventSlim();
        using var tried = new ManualResetEventSlim();
        var owner = UserTest.Start(() =>
        {
            hwnd = UserTest.MessageWindow(UserTest.RegisterClass(User32.DefWindowProc));
            created.Set();
            Assert.True(tried.Wait(UserTest.Timeout));
            Assert.True(User32.DestroyWindow(hwnd));
        });
        Assert.True(created.Wait(UserTest.Timeout));
        UserTest.OnNewThread(() =>
        {
            Assert.False(User32.DestroyWindow(hwnd));
            Assert.Equal((uint)Win32Error.ERROR_ACCESS_DENIED, UserTest.LastError);
            Assert.True(User32.IsWindow(hwnd));
        });
        tried.Set();
        owner.Join();
    }

    [Fact]
    public void GetWindowThreadProcessId_names_the_owning_thread_and_process() => UserTest.OnNewThread(() =>
    {
        var hwnd = UserTest.MessageWindow(UserTest.RegisterClass(User32.DefWindowProc));
        Assert.Equal(Kernel32.GetCurrentThreadId(), User32.GetWindowThreadProcessId(hwnd, out var pid));
        Assert.Equal((uint)Environment.ProcessId, pid);
        Assert.True(User32.DestroyWindow(hwnd));
        Assert.Equal(0u, User32.GetWindowThreadProcessId(hwnd, out pid));
        Assert.Equal(0u, pid);
        Assert.Equal((uint)Win32Error.ERROR_INVALID_WINDOW_HANDLE, UserTest.LastError);
    });

    [Fact]
    public void FindWindowEx_finds_message_only_windows_by_class_and_name() => UserTest.OnNewThread(() =>
    {
        var className = UserTest.RegisterClass(User32.DefWindowProc);
        var first = UserTest.MessageWindow(className, "alpha");
        var second = UserTest.MessageWindow(className, "beta");
        Assert.Equal(first, User32.FindWindowEx(User32.HWND_MESSAGE, 0, className, null));
        Assert.Equal(second, User32.FindWindowEx(User32.HWND_MESSAGE, first, className, null));
        Assert.Equal(0, User32.FindWindowEx(User32.HWND_MESSAGE, second, className, null));
        Assert.Equal(second, User32.FindWindowEx(User32.HWND_MESSAGE, 0, className.ToLowerInvariant(), "BETA"));
        Assert.Equal(0, User32.FindWindowEx(User32.HWND_MESSAGE, 0, className, "gamma"));
        // Message-only windows are not top-level windows.
        Assert.Equal(0, User32.FindWindowEx(0, 0, className, null));
        Assert.True(User32.DestroyWindow(first));
        Assert.Equal(second, User32.FindWindowEx(User32.HWND_MESSAGE, 0, className, null));
        Assert.True(User32.DestroyWindow(second));
        Assert.Equal(0, User32.FindWindowEx(User32.HWND_MESSAGE, 0, className, null));
    });

    [Fact]
    public void UnregisterClass_fails_with_ERROR_CLASS_HAS_WINDOWS_while_a_window_of_it_lives() => UserTest.OnNewThread(() =>
    {
        var className = UserTest.RegisterClass(User32.DefWindowProc);
        var hwnd = UserTest.MessageWindow(className);
        Assert.False(User32.UnregisterClass(className, 0));
        Assert.Equal((uint)Win32Error.ERROR_CLASS_HAS_WINDOWS, UserTest.LastError);
        Assert.True(User32.DestroyWindow(hwnd));
        Assert.True(User32.UnregisterClass(className, 0));
    });

    [Fact]
    public void RegisterWindowMessage_gives_one_value_per_name_in_any_case() => UserTest.OnNewThread(() =>
    {
        var name = UserTest.UniqueName("KbMessage");
        var message = User32.RegisterWindowMessage(name);
        Assert.InRange(message, 0xC000u, 0xFFFFu);
        Assert.Equal(message, User32.RegisterWindowMessage(name.ToUpperInvariant()));
        Assert.NotEqual(message, User32.RegisterWindowMessage(name + "2"));
        Assert.Equal(0u, User32.RegisterWindowMessage(""));
        Assert.Equal((uint)Win32Error.ERROR_INVALID_PARAMETER, UserTest.LastError);
    });

    [Fact]
    public void Windows_go_when_their_thread_exits()
    {
        using var scope = UserTest.Scope();
        nint hwnd = 0;
        UserTest.OnNewThread(() => hwnd = UserTest.MessageWindow(UserTest.RegisterClass(User32.DefWindowProc)));
        UserTest.WaitForCounts(_ => !User32.IsWindow(hwnd));
        Assert.False(User32.IsWindow(hwnd));
        UserTest.OnNewThread(() =>
        {
            Assert.False(User32.PostMessage(hwnd, WM_USER, 0, 0));
            Assert.Equal((uint)Win32Error.ERROR_INVALID_WINDOW_HANDLE, UserTest.LastError);
        });
    }
}
