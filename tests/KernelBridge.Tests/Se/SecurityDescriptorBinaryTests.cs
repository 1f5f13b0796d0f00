using System.Buffers.Binary;
using KernelBridge.Abi;
using KernelBridge.Abi.Security;

namespace KernelBridge.Tests.Se;

/// <summary>The self-relative form: byte-exact layout, round trips, and corrupt input refused with Windows' statuses.</summary>
public sealed class SecurityDescriptorBinaryTests
{
    private const string Sample = "O:BAG:SYD:PAI(A;OICI;FA;;;BA)(D;;WD;;;WD)S:(AU;SA;GA;;;WD)";

    [Fact]
    public void A_sid_is_written_as_Windows_lays_it_out()
    {
        var bytes = WellKnownSids.BuiltinAdministrators.ToBytes();
        Assert.Equal(Convert.FromHexString("01020000000000052000000020020000"), bytes);
        Assert.True(Sid.TryRead(bytes, out var sid, out var consumed));
        Assert.Equal(16, consumed);
        Assert.Equal(WellKnownSids.BuiltinAdministrators, sid);
    }

    [Theory]
    [InlineData(Sample)]
    [InlineData("O:SY")]
    [InlineData("D:NO_ACCESS_CONTROL")]
    [InlineData("D:")]
    [InlineData("")]
    public void The_self_relative_form_round_trips(string text)
    {
        var descriptor = Sddl.Parse(text);
        var bytes = descriptor.ToSelfRelative();
        Assert.Equal(descriptor.BinaryLength, bytes.Length);
        Assert.Equal(NtStatus.STATUS_SUCCESS, SecurityDescriptor.TryReadSelfRelative(bytes, out var read));
        Assert.Equal(descriptor, read);
        Assert.Equal(text, read!.ToString());
    }

    [Fact]
    public void The_header_says_self_relative_and_points_at_each_part()
    {
        var bytes = Sddl.Parse(Sample).ToSelfRelative();
        Assert.Equal(1, bytes[0]);
        var control = (SecurityDescriptorControl)BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2));
        Assert.Equal(SecurityDescriptorControl.SE_SELF_RELATIVE | SecurityDescriptorControl.SE_DACL_PRESENT | SecurityDescriptorControl.SE_SACL_PRESENT
            | SecurityDescriptorControl.SE_DACL_PROTECTED | SecurityDescriptorControl.SE_DACL_AUTO_INHERITED, control);
        var owner = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4));
        Assert.True(Sid.TryRead(bytes.AsSpan(owner), out var sid, out _));
        Assert.Equal(WellKnownSids.BuiltinAdministrators, sid);
        var dacl = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(16));
        Assert.Equal(Acl.Revision2, bytes[dacl]);
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(dacl + 4)));
    }

    public static TheoryData<string, int, byte, NtStatus> Corruptions => new()
    {
        { "revision", 0, 2, NtStatus.STATUS_INVALID_SECURITY_DESCR },
        { "not self-relative", 3, 0x00, NtStatus.STATUS_INVALID_SECURITY_DESCR },
        { "owner offset outside", 5, 0x7F, NtStatus.STATUS_INVALID_SECURITY_DESCR },
        { "owner offset misaligned", 4, 0x15, NtStatus.STATUS_INVALID_SECURITY_DESCR },
        { "owner sid revision", -1, 9, NtStatus.STATUS_INVALID_SID },
        { "owner sub-authority count", -2, 16, NtStatus.STATUS_INVALID_SID },
        { "dacl revision", -3, 9, NtStatus.STATUS_INVALID_ACL },
        { "dacl size", -4, 0xFF, NtStatus.STATUS_INVALID_ACL },
        { "ace count", -5, 9, NtStatus.STATUS_INVALID_ACL },
        { "ace size", -6, 3, NtStatus.STATUS_INVALID_ACL },
        { "ace type", -7, 0x42, NtStatus.STATUS_INVALID_ACL },
    };

    /// <summary>Negative offsets name a byte relative to a part: -1/-2 the owner SID, -3.. the DACL and its first ACE.</summary>
    [Theory]
    [MemberData(nameof(Corruptions))]
    public void A_corrupt_descriptor_is_refused_with_the_Windows_status(string what, int offset, byte value, NtStatus expected)
    {
        var bytes = Sddl.Parse(Sample).ToSelfRelative();
        var owner = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4));
        var dacl = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(16));
        var at = offset switch
        {
            -1 => owner,
            -2 => owner + 1,
            -3 => dacl,
            -4 => dacl + 3,
            -5 => dacl + 4,
            -6 => dacl + 8 + 2,
            -7 => dacl + 8,
            _ => offset,
        };
        bytes[at] = value;
        Assert.True(expected == SecurityDescriptor.TryReadSelfRelative(bytes, out var read), what);
        Assert.Null(read);
    }

    [Fact]
    public void A_truncated_descriptor_is_refused()
    {
        var bytes = Sddl.Parse(Sample).ToSelfRelative();
        Assert.Equal(NtStatus.STATUS_INVALID_SECURITY_DESCR, SecurityDescriptor.TryReadSelfRelative(bytes.AsSpan(0, 19), out _));
        for (var length = 20; length < bytes.Length; length++)
            Assert.False(SecurityDescriptor.TryReadSelfRelative(bytes.AsSpan(0, length), out _).IsSuccess, $"length {length}");
    }

    [Fact]
    public void An_ACL_whose_count_its_size_cannot_hold_is_refused_before_anything_is_allocated()
    {
        // Revision 2, size 8 (the header alone), 65,535 ACEs announced.
        byte[] acl = [2, 0, 8, 0, 0xFF, 0xFF, 0, 0];
        Assert.False(Acl.TryRead(acl, out var read, out _));
        Assert.Null(read);
    }
}
