using KernelBridge.Abi;
using KernelBridge.Abi.Security;
using KernelBridge.Ddk;

namespace KernelBridge.Tests.Se;

/// <summary>SeAssignSecurity: what a new object's descriptor becomes from its parent's, an explicit one and the creator's token.</summary>
public sealed class InheritanceTests
{
    private static readonly Sid Owner = Sid.ForUnixUser(1000), Group = Sid.ForUnixGroup(1000);
    private static readonly Acl DefaultDacl = new([Ace.Allow(Owner, AccessMask.GENERIC_ALL), Ace.Allow(WellKnownSids.LocalSystem, AccessMask.GENERIC_ALL)]);
    private static readonly GenericMapping Mapping = ObjectTypes.Directory.GenericMapping;

    private static string New(string? parent, string? explicitSddl, bool container, bool autoInherit = false) =>
        Sddl.ToSddl(SecurityDescriptor.CreateForNewObject(parent is null ? null : Sddl.Parse(parent), explicitSddl is null ? null : Sddl.Parse(explicitSddl),
            container, Owner, Group, DefaultDacl, Mapping, autoInherit), SecurityInformation.All);

    [Fact]
    public void Without_parent_aces_or_an_explicit_dacl_the_tokens_default_dacl_applies()
    {
        Assert.Equal($"O:{Owner}G:{Group}D:(A;;GA;;;{Owner})(A;;GA;;;SY)", New(null, null, false));
        Assert.Equal($"O:{Owner}G:{Group}D:(A;;GA;;;{Owner})(A;;GA;;;SY)", New("O:SYD:(A;;GA;;;WD)", null, false));
    }

    [Fact]
    public void An_explicit_descriptor_gives_owner_group_and_dacl()
    {
        Assert.Equal("O:BAG:SYD:(A;;CC;;;WD)", New("O:SYD:(A;OICI;GA;;;WD)", "O:BAG:SYD:(A;;0x1;;;WD)", false));
        Assert.Equal($"O:{Owner}G:{Group}D:NO_ACCESS_CONTROL", New(null, "D:NO_ACCESS_CONTROL", false));
    }

    [Fact]
    public void Objects_inherit_object_inherit_aces_mapped_and_marked_inherited()
    {
        Assert.Equal($"O:{Owner}G:{Group}D:(A;ID;CCDCRC;;;WD)", New("O:SYD:(A;OI;GR;;;WD)(A;CI;GA;;;BA)", null, false));
    }

    [Fact]
    public void Containers_inherit_container_inherit_aces_and_pass_them_on()
    {
        // CI with a specific mask: one ACE, still CI, marked ID.
        Assert.Equal($"O:{Owner}G:{Group}D:(A;CIID;CC;;;WD)", New("O:SYD:(A;CI;0x1;;;WD)", null, true));
        // CI with generic rights: the effective ACE mapped, then the original kept inherit-only.
        Assert.Equal($"O:{Owner}G:{Group}D:(A;ID;CCDCLCSWSDRCWDWO;;;BA)(A;CIIOID;GA;;;BA)", New("O:SYD:(A;CI;GA;;;BA)", null, true));
        // OI only: the container passes it to its objects but is not affected itself.
        Assert.Equal($"O:{Owner}G:{Group}D:(A;OIIOID;CC;;;WD)", New("O:SYD:(A;OI;0x1;;;WD)", null, true));
    }

    [Fact]
    public void No_propagate_stops_after_one_level()
    {
        Assert.Equal($"O:{Owner}G:{Group}D:(A;ID;CC;;;WD)", New("O:SYD:(A;OICINP;0x1;;;WD)", null, true));
        Assert.Equal($"O:{Owner}G:{Group}D:(A;ID;CC;;;WD)", New("O:SYD:(A;OINP;0x1;;;WD)", null, false));
        // OI and NP on a container: nothing for the container, and nothing to pass on.
        Assert.Equal($"O:{Owner}G:{Group}D:(A;;GA;;;{Owner})(A;;GA;;;SY)", New("O:SYD:(A;OINP;0x1;;;WD)", null, true));
    }

    [Fact]
    public void Creator_owner_and_creator_group_become_the_new_owner_and_group()
    {
        Assert.Equal($"O:{Owner}G:{Group}D:(A;ID;CCDCLCSWSDRCWDWO;;;{Owner})(A;ID;CC;;;{Group})", New("O:SYD:(A;OIIO;GA;;;CO)(A;OI;0x1;;;CG)", null, false));
        Assert.Equal($"O:{Owner}G:{Group}D:(A;ID;CC;;;{Owner})(A;CIIOID;CC;;;CO)", New("O:SYD:(A;CI;0x1;;;CO)", null, true));
    }

    [Fact]
    public void With_auto_inheritance_a_protected_explicit_dacl_stops_inheritance()
    {
        Assert.Equal($"O:{Owner}G:{Group}D:AI(A;;DC;;;BA)(A;ID;CC;;;WD)", New("O:SYD:(A;OI;0x1;;;WD)", "D:(A;;0x2;;;BA)", false, autoInherit: true));
        Assert.Equal($"O:{Owner}G:{Group}D:P(A;;DC;;;BA)", New("O:SYD:(A;OI;0x1;;;WD)", "D:P(A;;0x2;;;BA)", false, autoInherit: true));
    }
}
