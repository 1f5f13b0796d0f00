using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.TestDriver;

namespace KernelBridge.Tests.Ob;

/// <summary>
/// Handle values and what invalid ones give: multiples of 4, never 0, the low two tag bits
/// ignored, values private to a process, STATUS_INVALID_HANDLE / ERROR_INVALID_HANDLE for anything
/// else (WDK ntdef.h OBJ_HANDLE_TAGBITS; Wine om.c; WRK ObReferenceObjectByHandle, IopXxxControlFile).
/// Each test that depends on what else is in the table uses a process of its own.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class HandleValueTests(KernelFixture fixture)
{
    [Fact]
    public void Handle_values_are_nonzero_multiples_of_four()
    {
        using var process = ObTest.NewProcess(fixture);
        using (GateClient.Use(process))
        {
            var tag = KbTest.NewTag();
            var handles = new List<nint>();
            try
            {
                for (var i = 0; i < 6; i++) handles.Add(KbTest.Open(tag));
                Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\Device", out var directory));
                handles.Add(directory);
                Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenLink(@"\??\Echo", out var link));
                handles.Add(link);
                foreach (var handle in handles)
                {
                    Assert.NotEqual(0, handle);
                    Assert.True(handle % 4 == 0, $"handle 0x{handle:X} is not a multiple of 4");
                }
                Assert.Equal(handles.Count, handles.Distinct().Count());
            }
            finally
            {
                foreach (var handle in handles) ObTest.Close(handle);
            }
        }
    }

    [Fact]
    public void A_closed_handle_value_is_given_out_again()
    {
        using var process = ObTest.NewProcess(fixture);
        using (GateClient.Use(process))
        {
            var tag = KbTest.NewTag();
            var first = KbTest.Open(tag);
            var second = KbTest.Open(tag);
            Assert.True(Kernel32.CloseHandle(first));
            var third = KbTest.Open(tag);
            try
            {
                Assert.Equal(first, third);
                // The reused value names the new file object, not the old one.
                Assert.NotEqual(ObTest.FsContext(second), ObTest.FsContext(third));
                Assert.Equal(3, KbTest.Counters(tag).Creates);
            }
            finally
            {
                Kernel32.CloseHandle(second);
                Kernel32.CloseHandle(third);
            }
        }
    }

    [Fact]
    public void The_low_two_tag_bits_of_a_handle_value_are_ignored()
    {
        var tag = KbTest.NewTag();
        var handle = KbTest.Open(tag);
        try
        {
            var id = ObTest.FsContext(handle);
            for (nint bits = 1; bits <= 3; bits++)
            {
                Assert.Equal(id, ObTest.FsContext(handle | bits));
                Assert.Equal("File", ObTest.TypeName(handle | bits));
            }
            // NtClose too: closing value|3 closes the handle.
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtClose(handle | 3));
            Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, Ntdll.NtClose(handle));
            handle = 0;
            Assert.Equal(1, KbTest.Counters(tag).Cleanups);
        }
        finally
        {
            ObTest.Close(handle);
        }
    }

    [Fact]
    public void A_handle_value_from_one_process_is_invalid_in_another()
    {
        var tag = KbTest.NewTag();
        var handle = KbTest.Open(tag);
        try
        {
            using var other = ObTest.NewProcess(fixture);
            using (GateClient.Use(other))
            {
                IO_STATUS_BLOCK iosb = default;
                Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, KbTest.Ioctl(handle, KbTestInterface.IOCTL_KBTEST_FSCONTEXT, null, new byte[8], ref iosb));
                Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, ObTest.QueryObject(handle, ObjectInformationClass.ObjectBasicInformation, 56).Status);
                Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, ObTest.Duplicate(handle, out _, 0, DuplicateOptions.DUPLICATE_SAME_ACCESS));
                Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, Ntdll.NtClose(handle));
            }
            // Nothing the other process did touched this process's handle.
            ObTest.FsContext(handle);
            var counters = KbTest.Counters(tag);
            Assert.Equal(1, counters.Creates);
            Assert.Equal(0, counters.Cleanups);
        }
        finally
        {
            Kernel32.CloseHandle(handle);
        }
    }

    [Fact]
    public void The_same_handle_value_in_two_processes_names_two_different_objects()
    {
        var tag = KbTest.NewTag();
        using var first = ObTest.NewProcess(fixture);
        using var second = ObTest.NewProcess(fixture);
        nint a, b;
        long idA, idB;
        using (GateClient.Use(first))
        {
            a = KbTest.Open(tag);
            idA = ObTest.FsContext(a);
        }
        using (GateClient.Use(second))
        {
            b = KbTest.Open(tag);
            idB = ObTest.FsContext(b);
        }
        Assert.Equal(a, b);
        Assert.NotEqual(idA, idB);
        using (GateClient.Use(first)) Assert.True(Kernel32.CloseHandle(a));
        using (GateClient.Use(second))
        {
            Assert.Equal(idB, ObTest.FsContext(b));
            Assert.True(Kernel32.CloseHandle(b));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(0x7FFC)]
    [InlineData(0x12345678)]
    [InlineData(-8)]
    public void NtClose_of_an_invalid_handle_is_STATUS_INVALID_HANDLE_and_CloseHandle_fails_with_ERROR_INVALID_HANDLE(long value)
    {
        using var process = ObTest.NewProcess(fixture);
        using (GateClient.Use(process))
        {
            Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, Ntdll.NtClose((nint)value));
            Kernel32.SetLastError(0u);
            Assert.False(Kernel32.CloseHandle((nint)value));
            Assert.Equal((uint)Win32Error.ERROR_INVALID_HANDLE, Kernel32.GetLastError());
        }
    }

    [Fact]
    public void Closing_a_handle_twice_fails_the_second_time()
    {
        using var process = ObTest.NewProcess(fixture);
        using (GateClient.Use(process))
        {
            var tag = KbTest.NewTag();
            var handle = KbTest.Open(tag);
            Assert.True(Kernel32.CloseHandle(handle));
            Kernel32.SetLastError(0u);
            Assert.False(Kernel32.CloseHandle(handle));
            Assert.Equal((uint)Win32Error.ERROR_INVALID_HANDLE, Kernel32.GetLastError());
            Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, Ntdll.NtClose(handle));
            var counters = KbTest.Counters(tag);
            Assert.Equal(1, counters.Cleanups);
            Assert.Equal(1, counters.Closes);
        }
    }

    [Fact]
    public void An_IOCTL_on_a_closed_handle_is_STATUS_INVALID_HANDLE_and_leaves_the_IOSB_alone()
    {
        using var process = ObTest.NewProcess(fixture);
        using (GateClient.Use(process))
        {
            var tag = KbTest.NewTag();
            var handle = KbTest.Open(tag);
            Assert.True(Kernel32.CloseHandle(handle));
            var iosb = new IO_STATUS_BLOCK { Status = 0x1234, Information = 0x5678 };
            var output = new byte[8];
            Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, KbTest.Ioctl(handle, KbTestInterface.IOCTL_KBTEST_FSCONTEXT, null, output, ref iosb));
            Assert.Equal(0x1234, iosb.Status);
            Assert.Equal((nuint)0x5678, iosb.Information);
            Assert.Equal(0, KbTest.Counters(tag).DeviceControls);

            uint returned = 0;
            Kernel32.SetLastError(0u);
            Assert.False(Kernel32.DeviceIoControl(handle, KbTestInterface.IOCTL_KBTEST_FSCONTEXT.Value, default, output, ref returned));
            Assert.Equal((uint)Win32Error.ERROR_INVALID_HANDLE, Kernel32.GetLastError());
        }
    }

    [Fact]
    public void An_IOCTL_on_a_directory_handle_is_STATUS_OBJECT_TYPE_MISMATCH()
    {
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenDirectory(@"\Device", out var directory));
        Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.OpenLink(@"\??\Echo", out var link));
        try
        {
            var iosb = new IO_STATUS_BLOCK { Status = 0x1234, Information = 0x5678 };
            Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH,
                KbTest.Ioctl(directory, KbTestInterface.IOCTL_KBTEST_FSCONTEXT, null, new byte[8], ref iosb));
            Assert.Equal(0x1234, iosb.Status);
            Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH,
                KbTest.Ioctl(link, KbTestInterface.IOCTL_KBTEST_FSCONTEXT, null, new byte[8], ref iosb));
            Assert.Equal(NtStatus.STATUS_OBJECT_TYPE_MISMATCH,
                KbTest.Ioctl(PseudoHandles.CurrentProcess, KbTestInterface.IOCTL_KBTEST_FSCONTEXT, null, new byte[8], ref iosb));

            // Win32 maps it to ERROR_INVALID_HANDLE.
            uint returned = 0;
            Kernel32.SetLastError(0u);
            Assert.False(Kernel32.DeviceIoControl(directory, KbTestInterface.IOCTL_KBTEST_FSCONTEXT.Value, default, new byte[8], ref returned));
            Assert.Equal((uint)Win32Error.ERROR_INVALID_HANDLE, Kernel32.GetLastError());
        }
        finally
        {
            ObTest.Close(directory);
            ObTest.Close(link);
        }
    }

    [Fact]
    public void Closing_a_process_runs_down_its_handles_with_IRP_MJ_CLEANUP_and_IRP_MJ_CLOSE()
    {
        var tag = KbTest.NewTag();
        var process = ObTest.NewProcess(fixture);
        using (GateClient.Use(process))
        {
            var handle = KbTest.Open(tag);
            Assert.Equal(NtStatus.STATUS_SUCCESS, ObTest.Duplicate(handle, out _, 0, DuplicateOptions.DUPLICATE_SAME_ACCESS));
            KbTest.Open(tag);
        }
        Assert.Equal(2, KbTest.Counters(tag).OpenFiles);
        process.Dispose();
        Assert.True(KbTest.Eventually(() => KbTest.Counters(tag) is { Creates: 2, Cleanups: 2, Closes: 2, OpenFiles: 0 }),
            $"counters: {KbTest.Counters(tag)}");
    }

    private const uint OBJ_PROTECT_CLOSE = 0x1;

    /// <summary>
    /// OBJ_PROTECT_CLOSE (HANDLE_FLAG_PROTECT_FROM_CLOSE): NtClose answers STATUS_HANDLE_NOT_CLOSABLE
    /// and the handle stays; DUPLICATE_CLOSE_SOURCE on it still duplicates and leaves the source
    /// open (Wine kernel32 DuplicateHandle tests); process exit closes it anyway.
    /// </summary>
    [Fact]
    public void A_handle_protected_from_close_stays_open_and_NtClose_says_STATUS_HANDLE_NOT_CLOSABLE()
    {
        var tag = KbTest.NewTag();
        var process = ObTest.NewProcess(fixture);
        try
        {
            using (GateClient.Use(process))
            {
                var handle = KbTest.Open(tag);
                Assert.Equal(NtStatus.STATUS_SUCCESS,
                    ObTest.Duplicate(handle, out var protectedHandle, 0, DuplicateOptions.DUPLICATE_SAME_ACCESS, OBJ_PROTECT_CLOSE));
                var flags = ObTest.QueryObject(protectedHandle, ObjectInformationClass.ObjectHandleFlagInformation, 2);
                Assert.Equal(NtStatus.STATUS_SUCCESS, flags.Status);
                Assert.Equal(0, flags.Buffer[0]);
                Assert.Equal(1, flags.Buffer[1]);

                Assert.Equal(NtStatus.STATUS_HANDLE_NOT_CLOSABLE, Ntdll.NtClose(protectedHandle));
                Kernel32.SetLastError(0u);
                Assert.False(Kernel32.CloseHandle(protectedHandle));
                Assert.Equal((uint)Win32Error.ERROR_INVALID_HANDLE, Kernel32.GetLastError());
                ObTest.FsContext(protectedHandle);

                Assert.Equal(NtStatus.STATUS_SUCCESS,
                    ObTest.Duplicate(protectedHandle, out var copy, 0, DuplicateOptions.DUPLICATE_SAME_ACCESS | DuplicateOptions.DUPLICATE_CLOSE_SOURCE));
                Assert.NotEqual(protectedHandle, copy);
                ObTest.FsContext(protectedHandle);

                Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtClose(handle));
                Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtClose(copy));
            }
            Assert.Equal(0, KbTest.Counters(tag).Cleanups);
        }
        finally
        {
            process.Dispose();
        }
        Assert.True(KbTest.Eventually(() => KbTest.Counters(tag) is { Cleanups: 1, Closes: 1 }), $"counters: {KbTest.Counters(tag)}");
    }

    [Fact]
    public void DuplicateHandle_with_bInheritHandle_makes_an_inheritable_handle()
    {
        var tag = KbTest.NewTag();
        var handle = KbTest.Open(tag);
        nint inheritable = 0;
        try
        {
            Assert.True(Kernel32.DuplicateHandle(Kernel32.GetCurrentProcess(), handle, Kernel32.GetCurrentProcess(), out inheritable, 0, true,
                DuplicateOptions.DUPLICATE_SAME_ACCESS));
            var flags = ObTest.QueryObject(inheritable, ObjectInformationClass.ObjectHandleFlagInformation, 2);
            Assert.Equal(NtStatus.STATUS_SUCCESS, flags.Status);
            Assert.Equal(1, flags.Buffer[0]);
            Assert.Equal(0, flags.Buffer[1]);
            var original = ObTest.QueryObject(handle, ObjectInformationClass.ObjectHandleFlagInformation, 2);
            Assert.Equal(0, original.Buffer[0]);
        }
        finally
        {
            Kernel32.CloseHandle(handle);
            ObTest.Close(inheritable);
        }
    }

    /// <summary>NtDuplicateObject closes the source under DUPLICATE_CLOSE_SOURCE even when the duplicate itself fails.</summary>
    [Fact]
    public void DUPLICATE_CLOSE_SOURCE_closes_the_source_even_when_the_duplication_fails()
    {
        var tag = KbTest.NewTag();
        var handle = KbTest.Open(tag);
        var status = ObTest.Duplicate(handle, out var target, 0xFFFFFFFF, DuplicateOptions.DUPLICATE_CLOSE_SOURCE);
        Assert.Equal(NtStatus.STATUS_ACCESS_DENIED, status);
        Assert.Equal(0, target);
        Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, Ntdll.NtClose(handle));
        Assert.True(KbTest.Eventually(() => KbTest.Counters(tag) is { Cleanups: 1, Closes: 1 }), $"counters: {KbTest.Counters(tag)}");
    }
}
