using System.ComponentModel;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Win32k;

/// <summary>The idiomatic layer: MessageWindow and MessageQueue over User32.</summary>
[Collection(Win32kCollection.Name)]
public sealed class MessageWindowTests
{
    [Fact]
    public void A_MessageWindow_answers_sends_and_posts_while_its_thread_runs_the_loop()
    {
        using var scope = UserTest.Scope();
        var name = UserTest.UniqueName("idiomatic");
        var posted = 0;
        uint ownerThread = 0;
        using var created = new ManualResetEventSlim();
        var owner = UserTest.Start(() =>
        {
            ownerThread = Kernel32.GetCurrentThreadId();
            using var window = MessageWindow.Create(name, (message, w, l) =>
            {
                if (message == User32.WM_USER + 1) posted++;
                return message == User32.WM_USER ? w * l : 0;
            });
            created.Set();
            Assert.Equal(7, MessageQueue.Run());
        });
        Assert.True(created.Wait(UserTest.Timeout));
        UserTest.OnNewThread(() =>
        {
            var hwnd = MessageWindow.Find(name);
            Assert.NotEqual(0, hwnd);
            MessageWindow.Post(hwnd, User32.WM_USER + 1, 0, 0);
            Assert.Equal(42, MessageWindow.Send(hwnd, User32.WM_USER, 6, 7, TimeSpan.FromSeconds(10)));
            Assert.Equal(1, posted);
            MessageQueue.Post(ownerThread, User32.WM_QUIT, 7, 0);
        });
        owner.Join();
        UserTest.OnNewThread(() =>
        {
            var failure = Assert.Throws<Win32Exception>(() => MessageWindow.Post(0x0BAD_0000, User32.WM_USER, 0, 0));
            Assert.Equal((int)Win32Error.ERROR_INVALID_WINDOW_HANDLE, failure.NativeErrorCode);
        });
    }

    [Fact]
    public void Send_to_a_window_whose_thread_does_not_pump_throws_TimeoutException()
    {
        using var scope = UserTest.Scope();
        using var receiver = new Receiver(User32.DefWindowProc, pump: false);
        UserTest.OnNewThread(() => Assert.Throws<TimeoutException>(() => MessageWindow.Send(receiver.Hwnd, User32.WM_USER, 0, 0, TimeSpan.FromMilliseconds(200))));
    }

    [Fact]
    public void Pump_dispatches_what_is_there_and_keeps_WM_QUIT_for_the_loop() => UserTest.OnNewThread(() =>
    {
        var seen = 0;
        using var window = MessageWindow.Create(null, (message, w, l) =>
        {
            seen++;
            return 0;
        });
        MessageWindow.Post(window.Handle, User32.WM_USER, 0, 0);
        MessageWindow.Post(window.Handle, User32.WM_USER, 0, 0);
        MessageQueue.Quit(3);
        Assert.Equal(2, MessageQueue.Pump(TimeSpan.FromSeconds(5)));
        Assert.Equal(2, seen);
        Assert.Equal(3, MessageQueue.Run());
    });
}
