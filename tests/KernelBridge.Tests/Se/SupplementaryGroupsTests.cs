using KernelBridge.Kernel.Se;

namespace KernelBridge.Tests.Se;

/// <summary>The supplementary groups a token gets come from /proc/PID/status; a process already gone keeps only its primary group.</summary>
public sealed class SupplementaryGroupsTests
{
    [Fact]
    public void The_groups_are_those_proc_lists_for_the_process()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("Groups:", StringComparison.Ordinal));
        var expected = line["Groups:".Length..].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .Select(g => uint.Parse(g, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(expected, SupplementaryGroups.Of(Environment.ProcessId));
    }

    [Fact]
    public void A_process_that_is_gone_has_none()
    {
        Assert.Empty(SupplementaryGroups.Of(int.MaxValue));
    }

    [Fact]
    public void Each_group_becomes_an_enabled_unix_group_sid_once()
    {
        var token = Token.FromCredentials(1000, 100, [100, 27, 27, 44]);
        var unixGroups = token.Groups.Where(g => g.Sid.IdentifierAuthority == 22).Select(g => g.Sid.ToString()).ToList();
        Assert.Equal(["S-1-22-2-100", "S-1-22-2-27", "S-1-22-2-44"], unixGroups);
        Assert.All(token.Groups.Where(g => g.Sid.IdentifierAuthority == 22), g => Assert.True(g.IsEnabled));
    }
}
