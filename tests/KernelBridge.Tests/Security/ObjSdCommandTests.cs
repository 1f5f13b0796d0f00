using KernelBridge.Abi;
using KernelBridge.Abi.Security;
using KernelBridge.Tests.Cli;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Security;

/// <summary>`kbridge obj DIR --sd`: each object's owner, group and DACL as SDDL, read through the kernel.</summary>
[Collection(KernelCollection.Name)]
public sealed class ObjSdCommandTests(KernelFixture fixture)
{
    [Fact]
    public void Obj_sd_json_prints_each_objects_descriptor_as_SDDL()
    {
        var name = SeTest.UniqueName("cli");
        Assert.Equal(NtStatus.STATUS_SUCCESS, SeTest.CreateEvent(name, SeTest.Sd("D:(A;;0x1F0003;;;WD)(A;;0x100001;;;AU)"), AccessMask.EVENT_ALL_ACCESS,
            out var handle));
        try
        {
            var expected = Sddl.ToSddl(SeTest.Query(handle), (SecurityInformation)SeTest.OwnerGroupDacl);
            var result = Kbridge.Run("obj", @"\BaseNamedObjects", "--sd", "--json", "--instance", fixture.Instance);
            Assert.True(result.ExitCode == 0, result.ToString());
            var json = result.Json();
            Assert.StartsWith("O:SYG:SYD:P(", json.GetProperty("sd").GetString(), StringComparison.Ordinal);
            var entry = json.GetProperty("entries").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name[@"\BaseNamedObjects\".Length..]);
            Assert.Equal("Event", entry.GetProperty("type").GetString());
            Assert.Equal(expected, entry.GetProperty("sd").GetString());
            Assert.Contains("(A;;0x1f0003;;;WD)", expected, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            SeTest.Close(handle);
        }
    }

    [Fact]
    public void Obj_sd_shows_the_devices_descriptors_in_a_table()
    {
        var result = Kbridge.Run("obj", @"\Device", "--sd", "--instance", fixture.Instance);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("KbTestSecure", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("(A;;FA;;;BA)", result.Stdout.Replace("\n", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).Replace("│", "", StringComparison.Ordinal),
            StringComparison.Ordinal);
    }
}
