using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Ob;

namespace KernelBridge.Tests.Security;

/// <summary>
/// A kernel shared by several Unix users (`kbridge kernel --multi-user`): everyone may connect, but
/// each process is what SO_PEERCRED says: user A's objects are closed to user B unless their DACL
/// lets B in, and A's handle values mean nothing in B's process. User B is uid 65534 under setpriv.
/// </summary>
public sealed class MultiUserTests
{
    private const int UserB = Posix.Nobody;

    private static string Status(NtStatus status) => $"status 0x{status.Value:X8}";

    [MultiUserFact]
    public void The_socket_is_open_to_everyone_and_the_directory_searchable_but_not_listable_or_writable()
    {
        using var kernel = SharedKernel.Start();
        var rw = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(rw | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite, File.GetUnixFileMode(kernel.SocketPath));
        Assert.Equal(rw | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute, File.GetUnixFileMode(kernel.Directory));
    }

    [MultiUserFact]
    public unsafe void Another_user_cannot_open_an_event_the_default_DACL_keeps_for_its_creator_but_can_open_one_granted_to_Everyone()
    {
        using var kernel = SharedKernel.Start();
        using var gate = kernel.Connect();
        using var scope = GateClient.Use(gate);
        var closed = SeTest.UniqueName("mine");
        var open = SeTest.UniqueName("ours");
        Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateEvent(closed, null, AccessMask.EVENT_ALL_ACCESS, out var mine));
        Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateEvent(open, SeTest.Sd("D:(A;;0x1F0003;;;WD)"), AccessMask.EVENT_ALL_ACCESS, out var ours));

        Assert.Equal(Status(NtStatus.STATUS_ACCESS_DENIED), kernel.RunAs(UserB, "open-event", closed, "0x100000"));
        Assert.Equal(Status(NtStatus.STATUS_ACCESS_DENIED), kernel.RunAs(UserB, "query-sd", closed));
        Assert.Equal(Status(NtStatus.STATUS_SUCCESS), kernel.RunAs(UserB, "open-event", open, "0x100002"));
        // The creator itself still opens its own.
        Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.OpenEvent(closed, AccessMask.EVENT_MODIFY_STATE, out var again));
        SeTest.Close(again);
        SeTest.Close(mine);
        SeTest.Close(ours);
    }

    [MultiUserFact]
    public void Another_user_cannot_use_the_handle_values_of_another_process()
    {
        using var kernel = SharedKernel.Start();
        using var gate = kernel.Connect();
        using var scope = GateClient.Use(gate);
        var handles = new List<nint>();
        try
        {
            // Several, so the first values of B's own empty table are among them.
            for (var i = 0; i < 4; i++)
            {
                Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateEvent(SeTest.UniqueName("h"), SeTest.Sd("D:(A;;0x1F0003;;;WD)"), AccessMask.EVENT_ALL_ACCESS,
                    out var handle));
                handles.Add(handle);
            }
            foreach (var handle in handles)
                Assert.Equal(Status(NtStatus.STATUS_INVALID_HANDLE), kernel.RunAs(UserB, "set-event", handle.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            // Nothing B tried reached A's events.
            foreach (var handle in handles) Assert.Equal(0, KeState(handle));
        }
        finally
        {
            foreach (var handle in handles) SeTest.Close(handle);
        }
    }

    [MultiUserFact]
    public void Another_users_threads_are_out_of_reach_of_PostThreadMessage_as_if_they_did_not_exist()
    {
        using var kernel = SharedKernel.Start();
        using var gate = kernel.Connect();
        using var scope = GateClient.Use(gate);
        // This thread gets a queue (any User32 call makes one), then B posts to it.
        Assert.False(User32.PeekMessage(out _, 0, 0, 0, User32.PM_REMOVE));
        var me = Kernel32.GetCurrentThreadId().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var invalidThread = $"status 0x{0xC0070000u | (uint)Win32Error.ERROR_INVALID_THREAD_ID:X8}";
        Assert.Equal(invalidThread, kernel.RunAs(UserB, "post-thread", me));
        Assert.False(User32.PeekMessage(out _, 0, 0, 0, User32.PM_REMOVE), "a message of another user reached this thread");
        // The same call from this user's own process is delivered.
        Assert.True(User32.PostThreadMessage(Kernel32.GetCurrentThreadId(), 0x400, 1, 2));
        Assert.True(User32.PeekMessage(out var message, 0, 0, 0, User32.PM_REMOVE));
        Assert.Equal(0x400u, message.message);
    }

    [MultiUserFact]
    public void Another_user_cannot_stop_the_kernel_its_owner_can()
    {
        using var kernel = SharedKernel.Start();
        Assert.Equal(Status(NtStatus.STATUS_ACCESS_DENIED), kernel.RunAs(UserB, "shutdown"));
        using var gate = kernel.Connect();
        Assert.True(KernelControl.QueryState(gate).KernelProcessId > 0, "the kernel stopped for another user");
        Assert.Equal(NtStatus.STATUS_SUCCESS, KernelControl.Shutdown(gate));
    }

    [MultiUserFact]
    public void A_device_for_SYSTEM_and_Administrators_refuses_another_user_while_a_default_device_opens_for_it()
    {
        using var kernel = SharedKernel.Start();
        var secure = KbTestInterface.Device(KbTestInterface.ServiceName, KbTestSecurityInterface.Secure);
        var plain = KbTestInterface.Device(KbTestInterface.ServiceName);
        const string readWrite = "0xC0000000";
        Assert.Equal(Status(NtStatus.STATUS_ACCESS_DENIED), kernel.RunAs(UserB, "open-file", secure, readWrite));
        Assert.Equal(Status(NtStatus.STATUS_ACCESS_DENIED), kernel.RunAs(UserB, "open-file", secure + @"\below", readWrite));
        Assert.Equal(Status(NtStatus.STATUS_SUCCESS), kernel.RunAs(UserB, "open-file", plain + @"\b", readWrite));

        using var gate = kernel.Connect();
        using var scope = GateClient.Use(gate);
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.NtCreateFile(secure, out var handle));
        ObTest.Close(handle);
    }

    [MultiUserFact]
    public void With_group_only_that_groups_members_reach_the_kernel()
    {
        const int outsider = Posix.Nobody - 1;
        using var kernel = SharedKernel.Start("--group", Posix.Nobody.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var rw = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(rw | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(kernel.SocketPath));
        Assert.Equal(rw | UnixFileMode.UserExecute | UnixFileMode.GroupExecute, File.GetUnixFileMode(kernel.Directory));
        using (var gate = kernel.Connect())
        using (GateClient.Use(gate))
        {
            var name = SeTest.UniqueName("group");
            Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateEvent(name, SeTest.Sd("D:(A;;0x1F0003;;;WD)"), AccessMask.EVENT_ALL_ACCESS, out var handle));
            // User B's gid is the group: it connects, and the event's DACL lets it in.
            Assert.Equal(Status(NtStatus.STATUS_SUCCESS), kernel.RunAs(UserB, "open-event", name, "0x100000"));
            Assert.Equal("unavailable", kernel.RunAs(outsider, "open-event", name, "0x100000"));
            SeTest.Close(handle);
        }
    }

    private static unsafe int KeState(nint handle)
    {
        int previous;
        Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtResetEvent(handle, &previous));
        return previous;
    }
}
