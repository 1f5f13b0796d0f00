using KernelBridge.Abi;
using KernelBridge.Abi.Security;

namespace KernelBridge.Tests.Se;

/// <summary>
/// SDDL in and out, checked against what Windows prints and refuses (Wine's advapi32 security.c
/// test_ConvertStringSecurityDescriptor / test_ConvertSecurityDescriptorToString, run on Windows).
/// </summary>
public sealed class SddlTests
{
    private static SecurityDescriptor Parse(string text)
    {
        var error = Sddl.TryParse(text, out var descriptor, out var message);
        Assert.True(error == Win32Error.ERROR_SUCCESS, $"{text}: {error} {message}");
        return descriptor!;
    }

    [Theory]
    [InlineData("O:SYG:S-1-5-21-93476-23408-4576D:(A;NP;GAGXGWGR;;;SU)(A;IOID;CCDC;;;SU)(D;OICI;0xffffffff;;;S-1-5-21-93476-23408-4576)")]
    [InlineData("O:BAG:SYD:PAI(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)(A;;0x1200a9;;;BU)")]
    [InlineData("D:(A;;GA;;;WD)")]
    [InlineData("D:")]
    [InlineData("D:NO_ACCESS_CONTROL")]
    [InlineData("O:S-1-22-1-1000G:S-1-22-2-1000D:(D;;WDWO;;;WD)(A;;KA;;;OW)(A;;FR;;;AU)")]
    [InlineData("O:SYG:S-1-5-21-93476-23408-4576D:S:(AU;OICINPIOIDSAFA;CCDCLCSWRPRC;;;SU)(AU;NPSA;0x12019f;;;SU)")]
    [InlineData("")]
    public void Canonical_sddl_prints_back_unchanged(string text)
    {
        Assert.Equal(text, Sddl.ToSddl(Parse(text), SecurityInformation.All));
    }

    [Theory]
    [InlineData("D:(A;;GRGWGX;;;WD)", "D:(A;;GXGWGR;;;WD)")]
    [InlineData("D:(A;;RCSDWDWO;;;WD)", "D:(A;;SDRCWDWO;;;WD)")]
    [InlineData("D:(A;;0x1f01ff;;;WD)", "D:(A;;FA;;;WD)")]
    [InlineData("D:(A;;0xF003F;;;WD)", "D:(A;;KA;;;WD)")]
    [InlineData("D:(A;;0x00100000;;;WD)", "D:(A;;0x100000;;;WD)")]
    [InlineData("O:S-1-5-18G:S-1-5-32-544", "O:SYG:BA")]
    [InlineData(" D: (D;;GA;;;WD)", "D:(D;;GA;;;WD)")]
    [InlineData("D:( D; ;GA; ; ; WD )", "D:(D;;GA;;;WD)")]
    [InlineData("S:(AU;;GR0x10;;;WD)", "S:(AU;;RPGR;;;WD)")]
    [InlineData("D:(A;;16;;;wd)", "D:(A;;RP;;;WD)")]
    public void Sddl_prints_as_Windows_prints_it(string text, string printed)
    {
        Assert.Equal(printed, Sddl.ToSddl(Parse(text), SecurityInformation.All));
    }

    [Fact]
    public void Only_the_parts_asked_for_are_printed()
    {
        var descriptor = Parse("O:SYG:S-1-5-21-93476-23408-4576D:(A;;GA;;;WD)");
        Assert.Equal("G:S-1-5-21-93476-23408-4576", Sddl.ToSddl(descriptor, SecurityInformation.GROUP_SECURITY_INFORMATION));
        Assert.Equal("O:SYD:(A;;GA;;;WD)", Sddl.ToSddl(descriptor, SecurityInformation.OWNER_SECURITY_INFORMATION | SecurityInformation.DACL_SECURITY_INFORMATION));
    }

    [Fact]
    public void Null_and_empty_dacls_are_told_apart()
    {
        var none = Parse("O:SY");
        Assert.False(none.DaclPresent);
        var nullDacl = Parse("D:NO_ACCESS_CONTROL");
        Assert.True(nullDacl.DaclPresent);
        Assert.Null(nullDacl.Dacl);
        var empty = Parse("D:");
        Assert.True(empty.DaclPresent);
        Assert.Equal(0, empty.Dacl!.Count);
        var flags = Parse("D:PAI(A;;GA;;;WD)");
        Assert.Equal(SecurityDescriptorControl.SE_DACL_PRESENT | SecurityDescriptorControl.SE_DACL_PROTECTED | SecurityDescriptorControl.SE_DACL_AUTO_INHERITED, flags.Control);
    }

    [Fact]
    public void Aces_carry_type_flags_mask_and_sid()
    {
        var ace = Parse("D:(D;OICIIO;GR;;;CO)").Dacl!.Aces.Single();
        Assert.Equal(AceType.ACCESS_DENIED_ACE_TYPE, ace.Type);
        Assert.Equal(AceFlags.OBJECT_INHERIT_ACE | AceFlags.CONTAINER_INHERIT_ACE | AceFlags.INHERIT_ONLY_ACE, ace.Flags);
        Assert.Equal(AccessMask.GENERIC_READ, ace.Mask);
        Assert.Equal(WellKnownSids.CreatorOwner, ace.Sid);
    }

    [Theory]
    [InlineData("ERROR:(D;;GA;;;WD)", Win32Error.ERROR_INVALID_PARAMETER)]
    [InlineData("X:SY", Win32Error.ERROR_INVALID_PARAMETER)]
    [InlineData("O:SYO:BA", Win32Error.ERROR_INVALID_PARAMETER)]
    [InlineData("D:(A;;GA;;;WD))", Win32Error.ERROR_INVALID_PARAMETER)]
    [InlineData("D:(A;;GA;;;WD)junk", Win32Error.ERROR_INVALID_PARAMETER)]
    [InlineData("D:(A;;ROB;;;WD)", Win32Error.ERROR_INVALID_ACL)]
    [InlineData("D:(D;;GA ;;;WD)", Win32Error.ERROR_INVALID_ACL)]
    [InlineData("D:(D ;;GA;;;WD)", Win32Error.ERROR_INVALID_ACL)]
    [InlineData("D:(A;;GA;;;WD", Win32Error.ERROR_INVALID_ACL)]
    [InlineData("D:(A;;GA;;;WD(A;;GA;;;SY)", Win32Error.ERROR_INVALID_ACL)]
    [InlineData("D:(Q;;GA;;;WD)", Win32Error.ERROR_INVALID_ACL)]
    [InlineData("D:(A;XX;GA;;;WD)", Win32Error.ERROR_INVALID_ACL)]
    [InlineData("D:(A;;GA;;WD)", Win32Error.ERROR_INVALID_ACL)]
    [InlineData("D:(A;;0x1ffffffff;;;WD)", Win32Error.ERROR_INVALID_ACL)]
    [InlineData("D:(D;;GA;;;WDANDSUCH)", Win32Error.ERROR_INVALID_ACL)]
    [InlineData("D:(D;;GA;;;Nonexistent account)", Win32Error.ERROR_INVALID_ACL)]
    [InlineData("D:(D;;GA;;;ZZ)", Win32Error.ERROR_INVALID_ACL)]
    [InlineData("D:Q(A;;GA;;;WD)", Win32Error.ERROR_INVALID_ACL)]
    [InlineData("O:ZZ", Win32Error.ERROR_NONE_MAPPED)]
    [InlineData("G:Nobody", Win32Error.ERROR_NONE_MAPPED)]
    [InlineData("O:S-1-5", Win32Error.ERROR_INVALID_SID)]
    [InlineData("O:S-1-x-5", Win32Error.ERROR_INVALID_SID)]
    public void Malformed_sddl_fails_with_the_Windows_error_and_says_why(string text, Win32Error expected)
    {
        var error = Sddl.TryParse(text, out var descriptor, out var message);
        Assert.Equal(expected, error);
        Assert.Null(descriptor);
        Assert.False(string.IsNullOrWhiteSpace(message));
        Assert.Throws<FormatException>(() => Sddl.Parse(text));
    }

    [Theory]
    [InlineData("S-1-5-18", "S-1-5-18")]
    [InlineData("SY", "S-1-5-18")]
    [InlineData("ba", "S-1-5-32-544")]
    [InlineData("S-1-860116326-1", "S-1-860116326-1")]
    [InlineData("S-1-0x112233445566-1", "S-1-0x112233445566-1")]
    [InlineData("S-1-5-21-93476-23408-4576", "S-1-5-21-93476-23408-4576")]
    public void String_sids_parse_and_print_as_ConvertSidToStringSid(string text, string printed)
    {
        Assert.True(Sddl.TryParseSid(text, out var sid));
        Assert.Equal(printed, sid!.ToString());
    }

    [Theory]
    [InlineData("S-1-5")]
    [InlineData("S-2-5-18")]
    [InlineData("S-1-5-18-")]
    [InlineData("S-1-5-4294967296")]
    [InlineData("S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16")]
    [InlineData("XX")]
    [InlineData("")]
    public void Malformed_string_sids_are_refused(string text)
    {
        Assert.False(Sddl.TryParseSid(text, out var sid));
        Assert.Null(sid);
    }

    [Fact]
    public void Unix_sids_follow_the_Samba_mapping()
    {
        Assert.Equal("S-1-22-1-1000", Sid.ForUnixUser(1000).ToString());
        Assert.Equal("S-1-22-2-27", Sid.ForUnixGroup(27).ToString());
        Assert.Equal(Sid.Parse("S-1-22-1-1000"), Sid.ForUnixUser(1000));
        Assert.NotEqual(Sid.ForUnixUser(7), Sid.ForUnixGroup(7));
    }
}
