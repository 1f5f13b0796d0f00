using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Ke;

/// <summary>
/// Semaphores: creation limits, ReleaseSemaphore's previous count, the limit (ERROR_TOO_MANY_POSTS,
/// nothing changed, nothing written), one count per satisfied wait (Wine ntdll/tests/sync.c
/// test_semaphore and kernel32/tests/sync.c test_semaphore, run on Windows; WRK ke/semphobj.c).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class SemaphoreTests
{
    [Theory]
    [InlineData(3, 2)]
    [InlineData(-1, 2)]
    [InlineData(0, 0)]
    [InlineData(0, -1)]
    public void CreateSemaphore_with_bad_counts_is_ERROR_INVALID_PARAMETER(int initial, int maximum)
    {
        Kernel32.SetLastError(0xDEADBEEF);
        var handle = Kernel32.CreateSemaphore(0, initial, maximum, null);
        var error = Kernel32.GetLastError();
        KeTest.Close(handle);
        Assert.Equal(0, handle);
        Assert.Equal((uint)Win32Error.ERROR_INVALID_PARAMETER, error);
    }

    [Fact]
    public void NtCreateSemaphore_with_the_initial_count_above_the_maximum_is_STATUS_INVALID_PARAMETER()
    {
        nint handle = 0x5555;
        var status = Ntdll.NtCreateSemaphore(&handle, AccessMask.SEMAPHORE_ALL_ACCESS, new ObjectAttributes(null, 0), 3, 2);
        if (status.IsSuccess) KeTest.Close(handle);
        Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER, status);
    }

    [Fact]
    public void ReleaseSemaphore_reports_the_count_before_the_release()
    {
        var handle = KeTest.Semaphore(1, 5);
        try
        {
            var previous = -7;
            Assert.True(Kernel32.ReleaseSemaphore(handle, 2, &previous));
            Assert.Equal(1, previous);
            Assert.True(Kernel32.ReleaseSemaphore(handle, 1, &previous));
            Assert.Equal(3, previous);
            Assert.Equal((4, 5), KeTest.SemaphoreState(handle));
            // The pointer is optional.
            Assert.True(Kernel32.ReleaseSemaphore(handle, 1, null));
            Assert.Equal((5, 5), KeTest.SemaphoreState(handle));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Theory]
    [InlineData(2, 4)]
    [InlineData(5, 1)]
    [InlineData(0, 6)]
    public void A_release_past_the_maximum_is_ERROR_TOO_MANY_POSTS_and_changes_nothing(int initial, int release)
    {
        var handle = KeTest.Semaphore(initial, 5);
        try
        {
            var previous = -7;
            Kernel32.SetLastError(0xDEADBEEF);
            Assert.False(Kernel32.ReleaseSemaphore(handle, release, &previous));
            Assert.Equal((uint)Win32Error.ERROR_TOO_MANY_POSTS, Kernel32.GetLastError());
            Assert.Equal(298u, Kernel32.GetLastError());
            Assert.Equal(-7, previous);
            Assert.Equal((initial, 5), KeTest.SemaphoreState(handle));

            previous = -7;
            Assert.Equal(NtStatus.STATUS_SEMAPHORE_LIMIT_EXCEEDED, Ntdll.NtReleaseSemaphore(handle, release, &previous));
            Assert.Equal(-7, previous);
            Assert.Equal((initial, 5), KeTest.SemaphoreState(handle));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void Each_satisfied_wait_takes_one_count()
    {
        var handle = KeTest.Semaphore(2, 3);
        try
        {
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(handle));
            Assert.Equal((1, 3), KeTest.SemaphoreState(handle));
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(handle));
            Assert.Equal((0, 3), KeTest.SemaphoreState(handle));
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.Poll(handle));
            Assert.Equal((0, 3), KeTest.SemaphoreState(handle));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void A_release_of_two_wakes_two_waiters_and_the_rest_stay_blocked()
    {
        var handle = KeTest.Semaphore(0, 10);
        try
        {
            var waiters = Parked.Start(3, () => Kernel32.WaitForSingleObject(handle, 10_000));
            var previous = -7;
            Assert.True(Kernel32.ReleaseSemaphore(handle, 2, &previous));
            Assert.Equal(0, previous);
            Assert.True(KeTest.Eventually(() => waiters.Count(w => w.IsCompleted) >= 2), "fewer than two waiters were released");
            Thread.Sleep(KeTest.Settle);
            Assert.Equal(2, waiters.Count(w => w.IsCompleted));
            Assert.Equal((0, 10), KeTest.SemaphoreState(handle));
            Assert.True(Kernel32.ReleaseSemaphore(handle, 1, null));
            foreach (var waiter in waiters) Assert.Equal(Kernel32.WAIT_OBJECT_0, waiter.Join());
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void NtReleaseSemaphore_with_a_count_that_is_not_positive_is_STATUS_INVALID_PARAMETER(int release)
    {
        var handle = KeTest.Semaphore(1, 5);
        try
        {
            var previous = -7;
            Assert.Equal(NtStatus.STATUS_INVALID_PARAMETER, Ntdll.NtReleaseSemaphore(handle, release, &previous));
            Assert.Equal(-7, previous);
            Assert.Equal((1, 5), KeTest.SemaphoreState(handle));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }
}
