using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Ke;

/// <summary>
/// Mutexes (mutants): recursive ownership by a thread, NtQueryMutant and NtReleaseMutant's counts,
/// release by a non-owner, initial ownership, and abandonment when the owning thread or process
/// goes (Wine ntdll/tests/sync.c test_mutant and kernel32/tests/sync.c test_mutex, run on
/// Windows; WRK ke/mutntobj.c, ke/thredobj.c KeRundownThread). The kernel learns that a thread has
/// exited from /proc, so the tests allow a bounded delay for that.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed unsafe class MutexTests(KernelFixture fixture)
{
    private static readonly TimeSpan ExitNoticed = TimeSpan.FromSeconds(10);

    [Fact]
    public void Ownership_nests_and_NtQueryMutant_counts_1_0_minus_1_while_NtReleaseMutant_reports_minus_1_then_0()
    {
        KeTest.OnThread(() =>
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, KeTest.NtCreateMutant(out var handle, initialOwner: false));
            try
            {
                Assert.Equal((1, false, false), KeTest.MutantState(handle));
                Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(handle));
                Assert.Equal((0, true, false), KeTest.MutantState(handle));
                Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(handle));
                Assert.Equal((-1, true, false), KeTest.MutantState(handle));

                var previous = 0x55;
                Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtReleaseMutant(handle, &previous));
                Assert.Equal(-1, previous);
                Assert.Equal((0, true, false), KeTest.MutantState(handle));
                previous = 0x55;
                Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtReleaseMutant(handle, &previous));
                Assert.Equal(0, previous);
                Assert.Equal((1, false, false), KeTest.MutantState(handle));

                // Free again: one more release is not the caller's to make.
                previous = 0x55;
                Assert.Equal(NtStatus.STATUS_MUTANT_NOT_OWNED, Ntdll.NtReleaseMutant(handle, &previous));
                Assert.Equal(0x55, previous);
            }
            finally
            {
                KeTest.Close(handle);
            }
        });
    }

    /// <summary>
    /// A thread that creates a mutex it owns and keeps it (alive, without releasing) until
    /// <see cref="Dispose"/>, then releases it and ends.
    /// </summary>
    private sealed class Holder : IDisposable
    {
        private readonly ManualResetEventSlim _ready = new();
        private readonly ManualResetEventSlim _done = new();
        private readonly ThreadCall<bool> _thread;

        public Holder(string? name = null)
        {
            _thread = new ThreadCall<bool>(() =>
            {
                Handle = KeTest.Mutex(initialOwner: true, name);
                State = KeTest.MutantState(Handle);
                _ready.Set();
                _done.Wait(KeTest.Timeout);
                return Kernel32.ReleaseMutex(Handle);
            });
            Assert.True(_ready.Wait(KeTest.Timeout), "the holder did not create its mutex");
        }

        public nint Handle { get; private set; }

        /// <summary>NtQueryMutant as the holder saw it right after creating the mutex.</summary>
        public (int CurrentCount, bool OwnedByCaller, bool Abandoned) State { get; private set; }

        /// <summary>Releases the mutex (true if that worked) and lets the thread end.</summary>
        public bool Release()
        {
            _done.Set();
            return _thread.Join();
        }

        public void Dispose()
        {
            _done.Set();
            _thread.Dispose();
            _ready.Dispose();
            _done.Dispose();
            KeTest.Close(Handle);
        }
    }

    [Fact]
    public void ReleaseMutex_by_a_thread_that_does_not_own_it_is_ERROR_NOT_OWNER()
    {
        using var holder = new Holder();
        var (released, error) = KeTest.OnThread(() =>
        {
            Kernel32.SetLastError(0xDEADBEEF);
            var ok = Kernel32.ReleaseMutex(holder.Handle);
            return (ok, Kernel32.GetLastError());
        });
        Assert.False(released);
        Assert.Equal((uint)Win32Error.ERROR_NOT_OWNER, error);
        Assert.Equal(288u, error);
        Assert.Equal(NtStatus.STATUS_MUTANT_NOT_OWNED, KeTest.OnThread(() => Ntdll.NtReleaseMutant(holder.Handle, null)));
        // Still held by its owner, who can release it.
        Assert.Equal(0, KeTest.MutantState(holder.Handle).CurrentCount);
        Assert.True(holder.Release());
        Assert.Equal((1, false, false), KeTest.MutantState(holder.Handle));
    }

    [Fact]
    public void ReleaseMutex_of_a_free_mutex_is_ERROR_NOT_OWNER()
    {
        KeTest.OnThread(() =>
        {
            var handle = KeTest.Mutex(initialOwner: false);
            try
            {
                Kernel32.SetLastError(0xDEADBEEF);
                Assert.False(Kernel32.ReleaseMutex(handle));
                Assert.Equal((uint)Win32Error.ERROR_NOT_OWNER, Kernel32.GetLastError());
                Assert.Equal((1, false, false), KeTest.MutantState(handle));
            }
            finally
            {
                KeTest.Close(handle);
            }
        });
    }

    [Fact]
    public void CreateMutex_with_initial_ownership_gives_it_to_the_creating_thread()
    {
        using var holder = new Holder();
        Assert.Equal((0, true, false), holder.State);
        KeTest.OnThread(() =>
        {
            Assert.Equal((0, false, false), KeTest.MutantState(holder.Handle));
            Assert.Equal(Kernel32.WAIT_TIMEOUT, KeTest.Poll(holder.Handle));
        });
        Assert.True(holder.Release());
        KeTest.OnThread(() =>
        {
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(holder.Handle));
            Assert.True(Kernel32.ReleaseMutex(holder.Handle));
        });
    }

    [Fact]
    public void A_thread_blocked_on_an_owned_mutex_gets_it_when_the_owner_releases_it()
    {
        using var holder = new Holder();
        var waiter = Parked.Start(() =>
        {
            var result = Kernel32.WaitForSingleObject(holder.Handle, 10_000);
            var state = KeTest.MutantState(holder.Handle);
            Kernel32.ReleaseMutex(holder.Handle);
            return (result, state);
        });
        Assert.False(waiter.IsCompleted);
        Assert.True(holder.Release());
        var (result, state) = waiter.Join();
        Assert.Equal(Kernel32.WAIT_OBJECT_0, result);
        Assert.Equal((0, true, false), state);
    }

    [Fact]
    public void The_owner_can_release_a_mutex_it_created_owned_and_another_thread_can_then_take_it()
    {
        var handle = KeTest.OnThread(() =>
        {
            var created = KeTest.Mutex(initialOwner: true);
            Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(created));
            Assert.True(Kernel32.ReleaseMutex(created));
            Assert.True(Kernel32.ReleaseMutex(created));
            return created;
        });
        try
        {
            KeTest.OnThread(() =>
            {
                Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(handle));
                Assert.Equal((0, true, false), KeTest.MutantState(handle));
                Assert.True(Kernel32.ReleaseMutex(handle));
            });
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void CreateMutex_with_initial_ownership_on_an_existing_name_opens_it_without_taking_it()
    {
        var name = KeTest.UniqueName("mutex");
        var first = KeTest.Mutex(initialOwner: false, name);
        try
        {
            var (second, error, state) = KeTest.OnThread(() =>
            {
                Kernel32.SetLastError(0xDEADBEEF);
                var opened = Kernel32.CreateMutex(0, true, name);
                var lastError = Kernel32.GetLastError();
                return (opened, lastError, opened != 0 ? KeTest.MutantState(opened) : default);
            });
            try
            {
                Assert.NotEqual(0, second);
                Assert.Equal((uint)Win32Error.ERROR_ALREADY_EXISTS, error);
                Assert.Equal((1, false, false), state);
                Assert.Equal((1, false, false), KeTest.MutantState(first));
            }
            finally
            {
                KeTest.Close(second);
            }
        }
        finally
        {
            KeTest.Close(first);
        }
    }

    /// <summary>A thread takes the mutex and ends without releasing it.</summary>
    private static void OwnAndExit(nint handle, int times = 1)
    {
        using var owner = new ThreadCall<uint>(() =>
        {
            var result = Kernel32.WAIT_OBJECT_0;
            for (var i = 0; i < times; i++) result |= KeTest.Poll(handle);
            return result;
        });
        Assert.Equal(Kernel32.WAIT_OBJECT_0, owner.Join());
    }

    [Fact]
    public void When_the_owning_thread_exits_the_next_waiter_gets_WAIT_ABANDONED_0_and_becomes_the_owner()
    {
        var handle = KeTest.Mutex(initialOwner: false);
        try
        {
            OwnAndExit(handle, times: 2);
            KeTest.OnThread(() =>
            {
                Assert.Equal(Kernel32.WAIT_ABANDONED_0, Kernel32.WaitForSingleObject(handle, (uint)ExitNoticed.TotalMilliseconds));
                Assert.Equal(0x80u, Kernel32.WAIT_ABANDONED_0);
                // The new owner holds it once; the abandoned flag is gone.
                Assert.Equal((0, true, false), KeTest.MutantState(handle));
                Assert.True(Kernel32.ReleaseMutex(handle));
                Assert.Equal((1, false, false), KeTest.MutantState(handle));
                // The next acquisition is an ordinary one.
                Assert.Equal(Kernel32.WAIT_OBJECT_0, KeTest.Poll(handle));
                Assert.True(Kernel32.ReleaseMutex(handle));
            });
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void A_waiter_blocked_when_the_owner_exits_is_woken_with_WAIT_ABANDONED_0()
    {
        var handle = KeTest.Mutex(initialOwner: false);
        try
        {
            using var exitNow = new ManualResetEventSlim();
            using var owner = new ThreadCall<uint>(() =>
            {
                var taken = KeTest.Poll(handle);
                exitNow.Wait(KeTest.Timeout);
                return taken;
            });
            owner.WaitStarted();
            Assert.True(KeTest.Eventually(() => KeTest.MutantState(handle).CurrentCount == 0), "the owner did not take the mutex");
            var waiter = Parked.Start(() => Kernel32.WaitForSingleObject(handle, 20_000));
            Assert.False(waiter.IsCompleted);
            exitNow.Set();
            Assert.Equal(Kernel32.WAIT_OBJECT_0, owner.Join());
            Assert.Equal(Kernel32.WAIT_ABANDONED_0, waiter.Join(KeTest.Timeout + ExitNoticed));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void NtQueryMutant_shows_AbandonedState_after_the_owner_exits()
    {
        var handle = KeTest.Mutex(initialOwner: false);
        try
        {
            OwnAndExit(handle);
            Assert.True(KeTest.Eventually(() => KeTest.MutantState(handle).Abandoned, ExitNoticed),
                $"the mutex never showed as abandoned: {KeTest.MutantState(handle)}");
            Assert.Equal((1, false, true), KeTest.MutantState(handle));
            KeTest.OnThread(() =>
            {
                Assert.Equal(Kernel32.WAIT_ABANDONED_0, KeTest.Poll(handle));
                Assert.Equal((0, true, false), KeTest.MutantState(handle));
                Assert.True(Kernel32.ReleaseMutex(handle));
            });
            Assert.Equal((1, false, false), KeTest.MutantState(handle));
        }
        finally
        {
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void In_a_wait_for_any_an_abandoned_mutex_gives_WAIT_ABANDONED_0_plus_its_index()
    {
        var handle = KeTest.Mutex(initialOwner: false);
        var unset = KeTest.Event(manualReset: true, initialState: false);
        try
        {
            OwnAndExit(handle);
            KeTest.OnThread(() =>
            {
                var result = Kernel32.WaitForMultipleObjects(2, [unset, handle], false, (uint)ExitNoticed.TotalMilliseconds);
                Assert.Equal(Kernel32.WAIT_ABANDONED_0 + 1, result);
                Assert.Equal((0, true, false), KeTest.MutantState(handle));
                Assert.True(Kernel32.ReleaseMutex(handle));
            });
        }
        finally
        {
            KeTest.Close(handle, unset);
        }
    }

    /// <summary>
    /// A thread of another process (connection) that creates the named mutex owned, takes it once
    /// more, then stays alive until <paramref name="exit"/> is set: only the connection going away
    /// can abandon the mutex then.
    /// </summary>
    private static ThreadCall<int> OwnInOtherProcess(string name, GateClient other, ManualResetEventSlim owned, ManualResetEventSlim exit) =>
        new(() =>
        {
            var created = KeTest.Mutex(initialOwner: true, name);
            var taken = KeTest.Poll(created);
            owned.Set();
            exit.Wait(KeTest.Timeout);
            return (int)taken;
        }, other);

    [Fact]
    public void When_the_owning_process_goes_away_a_waiter_gets_WAIT_ABANDONED_0()
    {
        var name = KeTest.UniqueName("mutex");
        var other = NewProcess();
        using var owned = new ManualResetEventSlim();
        using var exit = new ManualResetEventSlim();
        var otherGone = false;
        nint handle = 0;
        try
        {
            using var owner = OwnInOtherProcess(name, other, owned, exit);
            Assert.True(owned.Wait(KeTest.Timeout), "the other process did not take the mutex");
            handle = Kernel32.OpenMutex(AccessMask.SYNCHRONIZE | AccessMask.MUTANT_QUERY_STATE, false, name);
            Assert.True(handle != 0, $"OpenMutex failed with {Kernel32.GetLastError()}");
            Assert.Equal(-1, KeTest.MutantState(handle).CurrentCount);

            var waiter = Parked.Start(() => Kernel32.WaitForSingleObject(handle, 20_000));
            Assert.False(waiter.IsCompleted);
            other.Dispose();
            otherGone = true;
            Assert.Equal(Kernel32.WAIT_ABANDONED_0, waiter.Join());
            exit.Set();
            Assert.Equal((int)Kernel32.WAIT_OBJECT_0, owner.Join());
        }
        finally
        {
            exit.Set();
            if (!otherGone) other.Dispose();
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void A_mutex_whose_owning_process_went_away_shows_AbandonedState_and_is_free()
    {
        var name = KeTest.UniqueName("mutex");
        var other = NewProcess();
        using var owned = new ManualResetEventSlim();
        using var exit = new ManualResetEventSlim();
        var otherGone = false;
        nint handle = 0;
        try
        {
            using var owner = OwnInOtherProcess(name, other, owned, exit);
            Assert.True(owned.Wait(KeTest.Timeout), "the other process did not take the mutex");
            handle = Kernel32.OpenMutex(AccessMask.SYNCHRONIZE | AccessMask.MUTANT_QUERY_STATE, false, name);
            Assert.True(handle != 0, $"OpenMutex failed with {Kernel32.GetLastError()}");
            other.Dispose();
            otherGone = true;
            Assert.True(KeTest.Eventually(() => KeTest.MutantState(handle).Abandoned, ExitNoticed),
                $"the mutex never showed as abandoned: {KeTest.MutantState(handle)}");
            Assert.Equal((1, false, true), KeTest.MutantState(handle));
            KeTest.OnThread(() =>
            {
                Assert.Equal(Kernel32.WAIT_ABANDONED_0, KeTest.Poll(handle));
                Assert.Equal((0, true, false), KeTest.MutantState(handle));
                Assert.True(Kernel32.ReleaseMutex(handle));
            });
            exit.Set();
        }
        finally
        {
            exit.Set();
            if (!otherGone) other.Dispose();
            KeTest.Close(handle);
        }
    }

    [Fact]
    public void A_wait_for_all_that_takes_an_abandoned_mutex_returns_WAIT_ABANDONED_0()
    {
        var handle = KeTest.Mutex(initialOwner: false);
        var set = KeTest.Event(manualReset: true, initialState: true);
        try
        {
            OwnAndExit(handle);
            KeTest.OnThread(() =>
            {
                // WRK KiWaitSatisfyMutant sets the wait status to STATUS_ABANDONED: no index for wait-all.
                var result = Kernel32.WaitForMultipleObjects(2, [set, handle], true, (uint)ExitNoticed.TotalMilliseconds);
                Assert.Equal(Kernel32.WAIT_ABANDONED_0, result);
                Assert.Equal((0, true, false), KeTest.MutantState(handle));
                Assert.True(Kernel32.ReleaseMutex(handle));
            });
        }
        finally
        {
            KeTest.Close(handle, set);
        }
    }

    [Fact]
    public void The_owner_can_release_a_mutex_through_a_handle_opened_with_only_READ_CONTROL()
    {
        // Wine kernel32/tests/sync.c test_mutex: NtReleaseMutant checks ownership, not access.
        var name = KeTest.UniqueName("mutex");
        KeTest.OnThread(() =>
        {
            var created = KeTest.Mutex(initialOwner: true, name);
            var readControl = Kernel32.OpenMutex(AccessMask.READ_CONTROL, false, name);
            try
            {
                Assert.True(readControl != 0, $"OpenMutex(READ_CONTROL) failed with {Kernel32.GetLastError()}");
                Assert.True(Kernel32.ReleaseMutex(readControl), $"ReleaseMutex failed with {Kernel32.GetLastError()}");
                Kernel32.SetLastError(0xDEADBEEF);
                Assert.False(Kernel32.ReleaseMutex(created));
                Assert.Equal((uint)Win32Error.ERROR_NOT_OWNER, Kernel32.GetLastError());
            }
            finally
            {
                KeTest.Close(created, readControl);
            }
        });
    }

    [Fact]
    public void OpenMutex_with_no_access_at_all_is_ERROR_ACCESS_DENIED()
    {
        // Wine kernel32/tests/sync.c test_mutex, run on Windows (todo_wine there): SeAccessCheck
        // denies an empty desired access.
        var name = KeTest.UniqueName("mutex");
        var mutex = KeTest.Mutex(initialOwner: false, name);
        try
        {
            Kernel32.SetLastError(0xDEADBEEF);
            var opened = Kernel32.OpenMutex(0, false, name);
            var error = Kernel32.GetLastError();
            KeTest.Close(opened);
            Assert.Equal(0, opened);
            Assert.Equal((uint)Win32Error.ERROR_ACCESS_DENIED, error);
        }
        finally
        {
            KeTest.Close(mutex);
        }
    }

    /// <summary>
    /// Wine kernel32/tests/sync.c test_mutex opens a mutex with each single access bit, on Windows
    /// (todo_wine there): exactly the bits 0x0DE0FFFE are refused. DELETE, READ_CONTROL, WRITE_DAC,
    /// WRITE_OWNER, SYNCHRONIZE, MUTANT_QUERY_STATE, MAXIMUM_ALLOWED and the generic bits open.
    /// </summary>
    private const uint RefusedMutexBits = 0x0DE0FFFE;

    private static (nint Handle, uint Error) OpenMutexWith(uint access, string name)
    {
        Kernel32.SetLastError(0xDEADBEEF);
        var opened = Kernel32.OpenMutex(access, false, name);
        var error = Kernel32.GetLastError();
        KeTest.Close(opened);
        return (opened, error);
    }

    [Fact]
    public void OpenMutex_with_each_access_bit_a_mutex_defines_or_a_generic_bit_succeeds()
    {
        var name = KeTest.UniqueName("mutex");
        var mutex = KeTest.Mutex(initialOwner: false, name);
        try
        {
            var wrong = new List<string>();
            for (var bit = 0; bit < 32; bit++)
            {
                var access = 1u << bit;
                if ((RefusedMutexBits & access) != 0) continue;
                var (opened, error) = OpenMutexWith(access, name);
                if (opened == 0) wrong.Add($"0x{access:X8} was refused with {error}");
            }
            Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
        }
        finally
        {
            KeTest.Close(mutex);
        }
    }

    [Fact]
    public void OpenMutex_with_an_access_bit_a_mutex_does_not_define_is_ERROR_ACCESS_DENIED()
    {
        var name = KeTest.UniqueName("mutex");
        var mutex = KeTest.Mutex(initialOwner: false, name);
        try
        {
            var wrong = new List<string>();
            for (var bit = 0; bit < 32; bit++)
            {
                var access = 1u << bit;
                if ((RefusedMutexBits & access) == 0 || access == AccessMask.ACCESS_SYSTEM_SECURITY) continue;
                var (opened, error) = OpenMutexWith(access, name);
                if (opened != 0 || error != (uint)Win32Error.ERROR_ACCESS_DENIED)
                    wrong.Add($"0x{access:X8}: opened={opened != 0}, error={error}; expected NULL with ERROR_ACCESS_DENIED");
            }
            Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
        }
        finally
        {
            KeTest.Close(mutex);
        }
    }

    [Fact]
    public void OpenMutex_with_ACCESS_SYSTEM_SECURITY_is_ERROR_PRIVILEGE_NOT_HELD()
    {
        var name = KeTest.UniqueName("mutex");
        var mutex = KeTest.Mutex(initialOwner: false, name);
        try
        {
            var (opened, error) = OpenMutexWith(AccessMask.ACCESS_SYSTEM_SECURITY, name);
            Assert.Equal(0, opened);
            Assert.Equal((uint)Win32Error.ERROR_PRIVILEGE_NOT_HELD, error);
        }
        finally
        {
            KeTest.Close(mutex);
        }
    }

    private GateClient NewProcess() => GateClient.Connect(fixture.Instance, autoStart: false);
}
