using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Ke;

/// <summary>
/// SetHandleInformation(HANDLE_FLAG_PROTECT_FROM_CLOSE): CloseHandle fails with
/// ERROR_INVALID_HANDLE (NtClose: STATUS_HANDLE_NOT_CLOSABLE) and the handle keeps working;
/// clearing the flag lets it close (MS docs SetHandleInformation / CloseHandle; WRK ob/obclose.c).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class HandleProtectionTests
{
    [Fact]
    public void A_handle_protected_from_close_cannot_be_closed_and_still_works_until_the_flag_is_cleared()
    {
        var handle = KeTest.Event(manualReset: true, initialState: false);
        var closed = false;
        try
        {
            Assert.True(Kernel32.SetHandleInformation(handle, Kernel32.HANDLE_FLAG_PROTECT_FROM_CLOSE, Kernel32.HANDLE_FLAG_PROTECT_FROM_CLOSE));

            Kernel32.SetLastError(0xDEADBEEF);
            Assert.False(Kernel32.CloseHandle(handle));
            Assert.Equal((uint)Win32Error.ERROR_INVALID_HANDLE, Kernel32.GetLastError());
            Assert.Equal(NtStatus.STATUS_HANDLE_NOT_CLOSABLE, Ntdll.NtClose(handle));

            // The handle survived both attempts.
            Assert.True(Kernel32.SetEvent(handle));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(handle));

            Assert.True(Kernel32.SetHandleInformation(handle, Kernel32.HANDLE_FLAG_PROTECT_FROM_CLOSE, 0));
            Assert.True(Kernel32.CloseHandle(handle));
            closed = true;
            Kernel32.SetLastError(0xDEADBEEF);
            Assert.False(Kernel32.SetEvent(handle));
            Assert.Equal((uint)Win32Error.ERROR_INVALID_HANDLE, Kernel32.GetLastError());
        }
        finally
        {
            if (!closed)
            {
                Kernel32.SetHandleInformation(handle, Kernel32.HANDLE_FLAG_PROTECT_FROM_CLOSE, 0);
                KeTest.Close(handle);
            }
        }
    }

    [Fact]
    public void Setting_only_the_inherit_flag_leaves_protection_as_it_was()
    {
        var handle = KeTest.Event(manualReset: true, initialState: false);
        try
        {
            Assert.True(Kernel32.SetHandleInformation(handle, Kernel32.HANDLE_FLAG_PROTECT_FROM_CLOSE, Kernel32.HANDLE_FLAG_PROTECT_FROM_CLOSE));
            Assert.True(Kernel32.SetHandleInformation(handle, Kernel32.HANDLE_FLAG_INHERIT, Kernel32.HANDLE_FLAG_INHERIT));
            Assert.Equal(NtStatus.STATUS_HANDLE_NOT_CLOSABLE, Ntdll.NtClose(handle));
        }
        finally
        {
            Kernel32.SetHandleInformation(handle, Kernel32.HANDLE_FLAG_PROTECT_FROM_CLOSE | Kernel32.HANDLE_FLAG_INHERIT, 0);
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void A_wait_through_a_protected_handle_works()
    {
        var handle = KeTest.Semaphore(1, 1);
        try
        {
            Assert.True(Kernel32.SetHandleInformation(handle, Kernel32.HANDLE_FLAG_PROTECT_FROM_CLOSE, Kernel32.HANDLE_FLAG_PROTECT_FROM_CLOSE));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(handle));
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.Poll(handle));
        }
        finally
        {
            Kernel32.SetHandleInformation(handle, Kernel32.HANDLE_FLAG_PROTECT_FROM_CLOSE, 0);
            KeTest.Close(handle);
        }
    }
}
