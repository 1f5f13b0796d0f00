using System.Runtime.InteropServices;

namespace KernelBridge.Abi;

/// <summary>
/// FILTER_MESSAGE_HEADER (fltuserstructures.h): what FilterGetMessage writes before the message.
/// ReplyLength is 0 when the sender waits for no reply; otherwise the largest dwReplyBufferSize a
/// reply may have (the FILTER_REPLY_HEADER plus the sender's reply buffer).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct FILTER_MESSAGE_HEADER
{
    public uint ReplyLength;
    public ulong MessageId;
}

/// <summary>FILTER_REPLY_HEADER: what FilterReplyMessage's buffer starts with; the reply follows.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FILTER_REPLY_HEADER
{
    /// <summary>Carried for the application's own use; the Filter Manager does not hand it to FltSendMessage.</summary>
    public int Status;
    public ulong MessageId;
}

/// <summary>The sizes and limits of communication ports.</summary>
public static class FilterPortLimits
{
    /// <summary>sizeof(FILTER_MESSAGE_HEADER) and sizeof(FILTER_REPLY_HEADER) on x64.</summary>
    public const int HeaderSize = 16;

    /// <summary>The largest message FltSendMessage takes, and the largest reply buffer (the port's limit).</summary>
    public const int MaxMessageSize = 64 * 1024;

    /// <summary>The largest connection context (FilterConnectCommunicationPort's size is a WORD).</summary>
    public const int MaxContextSize = ushort.MaxValue;

    /// <summary>FLT_PORT_FLAG_SYNC_HANDLE: accepted; every port handle here can be used both ways.</summary>
    public const uint FLT_PORT_FLAG_SYNC_HANDLE = 0x1;
}
