using System.Text;
using KernelBridge.Abi;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.Echo;
using KernelBridge.Tests.Infrastructure;
using static KernelBridge.Tests.Io.IoHelpers;

namespace KernelBridge.Tests.Io;

/// <summary>
/// The Echo sample driver (src/KernelBridge.Drivers/Echo) through the real kernel: one code per
/// transfer method, a per-open message (WriteFile / METHOD_IN_DIRECT store it, ReadFile returns
/// it) and a per-open prefix that needs write access. A short output buffer gets what fits and
/// STATUS_BUFFER_OVERFLOW, which DeviceIoControl reports as FALSE / ERROR_MORE_DATA with the
/// bytes returned (issue2-facts section 2: warnings are copied back and counted).
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class EchoDriverTests
{
    private static OwnedHandle OpenEcho(uint access = KbTest.ReadWrite)
    {
        var handle = Kernel32.CreateFile(EchoInterface.Win32Name, access, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
        Assert.True(handle != Kernel32.INVALID_HANDLE_VALUE, $"CreateFile(\\\\.\\Echo) failed with {Kernel32.GetLastError()}");
        return new OwnedHandle(handle);
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    public static TheoryData<string> EchoCodes() => new("METHOD_BUFFERED", "METHOD_OUT_DIRECT", "METHOD_NEITHER");

    private static uint EchoCode(string method) => method switch
    {
        "METHOD_BUFFERED" => EchoInterface.IOCTL_ECHO_BUFFERED.Value,
        "METHOD_OUT_DIRECT" => EchoInterface.IOCTL_ECHO_OUT_DIRECT.Value,
        "METHOD_NEITHER" => EchoInterface.IOCTL_ECHO_NEITHER.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(method)),
    };

    [Theory]
    [MemberData(nameof(EchoCodes))]
    public void Echo_returns_the_input_with_its_length_and_leaves_the_rest_of_the_output_buffer_alone(string method)
    {
        using var echo = OpenEcho();
        var original = Pattern(32);
        var output = (byte[])original.Clone();
        var returned = SentinelBytes;

        Assert.True(Win32Ioctl(echo, EchoCode(method), Ascii("ping"), output, ref returned), $"failed with {Kernel32.GetLastError()}");

        Assert.Equal(4u, returned);
        Assert.Equal(SentinelLastError, Kernel32.GetLastError());
        var expected = (byte[])original.Clone();
        Ascii("ping").CopyTo(expected, 0);
        AssertBytes(expected, output);

        var iosb = SentinelIosb();
        output = (byte[])original.Clone();
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtIoctl(echo, EchoCode(method), Ascii("ping"), output, ref iosb)));
        AssertIosb(iosb, Win.STATUS_SUCCESS, 4);
        AssertBytes(expected, output);
    }

    [Theory]
    [MemberData(nameof(EchoCodes))]
    public void Echo_into_a_short_buffer_copies_what_fits_and_is_STATUS_BUFFER_OVERFLOW_ERROR_MORE_DATA(string method)
    {
        using var echo = OpenEcho();
        var original = Pattern(8);
        var output = (byte[])original.Clone();
        var iosb = SentinelIosb();

        Assert.Equal(Hex(Win.STATUS_BUFFER_OVERFLOW), Hex(NtIoctl(echo, EchoCode(method), Ascii("hello world"), output, 5, ref iosb)));
        AssertIosb(iosb, Win.STATUS_BUFFER_OVERFLOW, 5);
        var expected = (byte[])original.Clone();
        Ascii("hello").CopyTo(expected, 0);
        AssertBytes(expected, output, "(5 bytes passed)");

        output = (byte[])original.Clone();
        var returned = SentinelBytes;
        Assert.False(Win32Ioctl(echo, EchoCode(method), Ascii("hello world"), output, 5, ref returned));
        Assert.Equal(Win.ERROR_MORE_DATA, Kernel32.GetLastError());
        Assert.Equal(5u, returned);
        AssertBytes(expected, output);
    }

    [Fact]
    public void In_direct_stores_the_callers_output_buffer_as_the_message_and_ReadFile_returns_it()
    {
        using var echo = OpenEcho();
        var message = Ascii("stored through METHOD_IN_DIRECT");
        var buffer = (byte[])message.Clone();
        var returned = SentinelBytes;

        Assert.True(Win32Ioctl(echo, EchoInterface.IOCTL_ECHO_IN_DIRECT.Value, null, buffer, ref returned), $"failed with {Kernel32.GetLastError()}");
        Assert.Equal((uint)message.Length, returned);
        AssertBytes(message, buffer, "(the driver only reads an IN_DIRECT buffer)");

        var original = Pattern(64);
        var read = (byte[])original.Clone();
        Assert.True(Win32Read(echo, read, read.Length, out var count), $"ReadFile failed with {Kernel32.GetLastError()}");
        Assert.Equal((uint)message.Length, count);
        var expected = (byte[])original.Clone();
        message.CopyTo(expected, 0);
        AssertBytes(expected, read);
    }

    [Fact]
    public void WriteFile_then_ReadFile_returns_the_message_and_a_short_read_is_ERROR_MORE_DATA_with_what_fits()
    {
        using var echo = OpenEcho();
        Assert.True(Win32Write(echo, Ascii("abc"), out var written), $"WriteFile failed with {Kernel32.GetLastError()}");
        Assert.Equal(3u, written);

        var original = Pattern(16);
        var buffer = (byte[])original.Clone();
        Assert.True(Win32Read(echo, buffer, buffer.Length, out var read));
        Assert.Equal(3u, read);
        var expected = (byte[])original.Clone();
        Ascii("abc").CopyTo(expected, 0);
        AssertBytes(expected, buffer);

        buffer = (byte[])original.Clone();
        Assert.False(Win32Read(echo, buffer, 2, out read));
        Assert.Equal(Win.ERROR_MORE_DATA, Kernel32.GetLastError());
        Assert.Equal(2u, read);
        expected = (byte[])original.Clone();
        Ascii("ab").CopyTo(expected, 0);
        AssertBytes(expected, buffer);
    }

    [Fact]
    public void Messages_belong_to_the_open_so_another_open_reads_nothing()
    {
        using var first = OpenEcho();
        using var second = OpenEcho();
        Assert.True(Win32Write(first, Ascii("mine"), out _));

        var buffer = Pattern(8);
        Assert.True(Win32Read(second, buffer, buffer.Length, out var read));
        Assert.Equal(0u, read);
        AssertBytes(Pattern(8), buffer);
    }

    [Fact]
    public void Prefix_set_with_a_writable_handle_applies_to_later_echoes_of_that_file_object_only()
    {
        using var first = OpenEcho();
        using var other = OpenEcho();
        var returned = SentinelBytes;
        Assert.True(Win32Ioctl(first, EchoInterface.IOCTL_ECHO_SET_PREFIX.Value, Ascii("> "), null, ref returned),
            $"SET_PREFIX failed with {Kernel32.GetLastError()}");
        Assert.Equal(0u, returned);

        foreach (var method in new[] { "METHOD_BUFFERED", "METHOD_OUT_DIRECT", "METHOD_NEITHER" })
        {
            var output = new byte[16];
            returned = SentinelBytes;
            Assert.True(Win32Ioctl(first, EchoCode(method), Ascii("x"), output, ref returned));
            Assert.Equal("> x", Encoding.ASCII.GetString(output, 0, (int)returned));

            output = new byte[16];
            returned = SentinelBytes;
            Assert.True(Win32Ioctl(other, EchoCode(method), Ascii("x"), output, ref returned));
            Assert.Equal("x", Encoding.ASCII.GetString(output, 0, (int)returned));
        }

        // ReadFile goes through the same file object: prefix + message.
        Assert.True(Win32Write(first, Ascii("msg"), out _));
        var buffer = new byte[16];
        Assert.True(Win32Read(first, buffer, buffer.Length, out var read));
        Assert.Equal("> msg", Encoding.ASCII.GetString(buffer, 0, (int)read));
    }

    [Fact]
    public void Prefix_is_seen_through_a_duplicated_handle_because_it_names_the_same_file_object()
    {
        using var first = OpenEcho();
        var returned = SentinelBytes;
        Assert.True(Win32Ioctl(first, EchoInterface.IOCTL_ECHO_SET_PREFIX.Value, Ascii("dup:"), null, ref returned));
        Assert.True(Kernel32.DuplicateHandle(Kernel32.GetCurrentProcess(), first, Kernel32.GetCurrentProcess(), out var duplicate, 0, false,
            DuplicateOptions.DUPLICATE_SAME_ACCESS));
        using var second = new OwnedHandle(duplicate);

        var output = new byte[16];
        returned = SentinelBytes;
        Assert.True(Win32Ioctl(second, EchoInterface.IOCTL_ECHO_BUFFERED.Value, Ascii("y"), output, ref returned));
        Assert.Equal("dup:y", Encoding.ASCII.GetString(output, 0, (int)returned));
    }

    [Fact]
    public void Unknown_echo_code_is_ERROR_INVALID_FUNCTION()
    {
        using var echo = OpenEcho();
        var returned = SentinelBytes;
        var code = CtlCode.Make(0x22, 0x8FF, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS).Value;
        Assert.False(Win32Ioctl(echo, code, Ascii("x"), new byte[4], ref returned));
        Assert.Equal(Win.ERROR_INVALID_FUNCTION, Kernel32.GetLastError());
        Assert.Equal(SentinelBytes, returned);
    }
}
