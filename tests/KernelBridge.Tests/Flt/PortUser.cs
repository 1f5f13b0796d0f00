using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;

namespace KernelBridge.Tests.Flt;

/// <summary>A message as FilterGetMessage returned it: the header's fields and the bytes after it.</summary>
public sealed record ReceivedMessage(int HResult, uint ReplyLength, ulong MessageId, byte[] Body);

/// <summary>The user side of the port tests: a connection through FltLib, with bounded waits.</summary>
public sealed unsafe class PortUser : IDisposable
{
    private PortUser(nint handle) => Handle = handle;

    public nint Handle { get; private set; }

    public static int TryConnect(string name, byte[]? context, out PortUser? user)
    {
        context ??= [];
        var hr = FltLib.FilterConnectCommunicationPort(name, 0, context, (ushort)context.Length, 0, out var handle);
        user = hr == FltLib.S_OK ? new PortUser(handle) : null;
        return hr;
    }

    public static PortUser Connect(string name, byte[]? context = null)
    {
        var hr = TryConnect(name, context, out var user);
        Assert.True(hr == FltLib.S_OK, $"FilterConnectCommunicationPort({name}) = 0x{hr:X8}");
        return user!;
    }

    /// <summary>FilterGetMessage, overlapped, waited for at most <paramref name="timeout"/> (then cancelled: null).</summary>
    public ReceivedMessage? TryGet(int bufferSize = 512, TimeSpan? timeout = null)
    {
        var buffer = (byte*)NativeMemory.AllocZeroed((nuint)bufferSize);
        var overlapped = (OVERLAPPED*)NativeMemory.AllocZeroed((nuint)sizeof(OVERLAPPED));
        var done = Kernel32.CreateEvent(0, true, false, null);
        try
        {
            overlapped->hEvent = done;
            var hr = FltLib.FilterGetMessage(Handle, (FILTER_MESSAGE_HEADER*)buffer, (uint)bufferSize, overlapped);
            if (hr == FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_IO_PENDING))
            {
                var waited = Kernel32.WaitForSingleObject(done, (uint)(timeout ?? TimeSpan.FromSeconds(10)).TotalMilliseconds);
                if (waited != Kernel32.WAIT_OBJECT_0)
                {
                    Kernel32.CancelIoEx(Handle, overlapped);
                    Kernel32.WaitForSingleObject(done, 10_000);
                    return null;
                }
                uint transferred;
                hr = Kernel32.GetOverlappedResult(Handle, overlapped, &transferred, false) ? FltLib.S_OK : FltLib.HRESULT_FROM_WIN32(Kernel32.GetLastError());
            }
            return MessageOf(hr, new ReadOnlySpan<byte>(buffer, bufferSize), (int)overlapped->InternalHigh);
        }
        finally
        {
            Kernel32.CloseHandle(done);
            NativeMemory.Free(overlapped);
            NativeMemory.Free(buffer);
        }
    }

    public ReceivedMessage Get(int bufferSize = 512)
    {
        var message = TryGet(bufferSize);
        Assert.True(message is not null, "no message came within 10 s");
        return message!;
    }

    public static ReceivedMessage MessageOf(int hr, ReadOnlySpan<byte> buffer, int written)
    {
        if (written < FilterPortLimits.HeaderSize) return new ReceivedMessage(hr, 0, 0, []);
        var header = MemoryMarshal.Read<FILTER_MESSAGE_HEADER>(buffer);
        return new ReceivedMessage(hr, header.ReplyLength, header.MessageId, buffer[FilterPortLimits.HeaderSize..written].ToArray());
    }

    /// <summary>FilterReplyMessage with FILTER_REPLY_HEADER{0, id} and <paramref name="reply"/>.</summary>
    public int Reply(ulong messageId, ReadOnlySpan<byte> reply)
    {
        var buffer = new byte[FilterPortLimits.HeaderSize + reply.Length];
        var header = new FILTER_REPLY_HEADER { Status = 0, MessageId = messageId };
        MemoryMarshal.Write(buffer, in header);
        reply.CopyTo(buffer.AsSpan(FilterPortLimits.HeaderSize));
        return FltLib.FilterReplyMessage(Handle, buffer);
    }

    public void Dispose()
    {
        if (Handle == 0) return;
        Kernel32.CloseHandle(Handle);
        Handle = 0;
    }
}
