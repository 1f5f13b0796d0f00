using System.Runtime.InteropServices;
using KernelBridge.Abi;

namespace KernelBridge.Client;

/// <summary>
/// One message from a minifilter, as FilterGetMessage returned it: its id (what a reply names), how
/// many reply bytes the sender waits for (0: it waits for none), and the message itself.
/// </summary>
public sealed class FilterMessage
{
    internal FilterMessage(ulong messageId, int replyLength, ReadOnlyMemory<byte> body, bool truncated)
    {
        MessageId = messageId;
        ReplyLength = replyLength;
        Body = body;
        Truncated = truncated;
    }

    public ulong MessageId { get; }

    /// <summary>The sender's reply buffer, in bytes (FILTER_MESSAGE_HEADER.ReplyLength less the reply header).</summary>
    public int ReplyLength { get; }

    /// <summary>Whether the sender waits for a reply.</summary>
    public bool WantsReply => ReplyLength > 0;

    /// <summary>The message (after FILTER_MESSAGE_HEADER).</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>The message was longer than the buffer and arrived cut.</summary>
    public bool Truncated { get; }

    /// <summary>The message read as <typeparamref name="T"/> (it must be at least that long).</summary>
    public T Read<T>() where T : unmanaged => MemoryMarshal.Read<T>(Body.Span);

    internal static FilterMessage Parse(byte[] buffer, int written, bool truncated)
    {
        var header = MemoryMarshal.Read<FILTER_MESSAGE_HEADER>(buffer);
        var replyLength = header.ReplyLength == 0 ? 0 : (int)header.ReplyLength - FilterPortLimits.HeaderSize;
        return new FilterMessage(header.MessageId, replyLength, buffer.AsMemory(FilterPortLimits.HeaderSize, written - FilterPortLimits.HeaderSize), truncated);
    }
}
