using KernelBridge.Platform.Interop;
using KernelBridge.Tests.Cli;
using KernelBridge.Tests.Gate.Support;

namespace KernelBridge.Tests.Se;

/// <summary>kbridge whoami as a process against the class's own kernel: the table, --json, --enable and its errors.</summary>
public sealed class WhoamiCommandTests(PlainKernelFixture fixture) : IClassFixture<PlainKernelFixture>
{
    private CliResult Run(params string[] arguments) => Kbridge.Run([.. arguments, "--instance", fixture.Instance]);

    private static readonly uint Uid = Libc.EffectiveUserId();

    [Fact]
    public void Whoami_prints_user_groups_and_privileges()
    {
        var result = Run("whoami");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("USER INFORMATION", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"S-1-22-1-{Uid}", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("GROUP INFORMATION", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("S-1-1-0", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("PRIVILEGES INFORMATION", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("SeChangeNotifyPrivilege", result.Stdout, StringComparison.Ordinal);
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public void Whoami_json_is_one_object_with_the_token()
    {
        var result = Run("whoami", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal(["defaultDacl", "elevated", "groups", "owner", "primaryGroup", "privileges", "user"],
            json.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal($"S-1-22-1-{Uid}", json.GetProperty("user").GetProperty("sid").GetString());
        Assert.Equal(Uid == 0, json.GetProperty("elevated").GetBoolean());
        var groups = json.GetProperty("groups").EnumerateArray().Select(g => g.GetProperty("sid").GetString()).ToList();
        Assert.Contains("S-1-1-0", groups);
        Assert.Contains("S-1-5-11", groups);
        Assert.Equal(Uid == 0, groups.Contains("S-1-5-32-544"));
        var privileges = json.GetProperty("privileges").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("state").GetString());
        Assert.Equal("Enabled", privileges["SeChangeNotifyPrivilege"]);
        Assert.Equal("Disabled", privileges["SeShutdownPrivilege"]);
        if (Uid == 0) Assert.Equal("Disabled", privileges["SeLoadDriverPrivilege"]);
        Assert.EndsWith("(A;;GA;;;SY)", json.GetProperty("defaultDacl").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Whoami_enable_switches_a_held_privilege_on_for_its_own_process()
    {
        var result = Run("whoami", "--json", "--enable", "SeShutdownPrivilege");
        Assert.True(result.ExitCode == 0, result.ToString());
        var state = result.Json().GetProperty("privileges").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "SeShutdownPrivilege");
        Assert.Equal("Enabled", state.GetProperty("state").GetString());
        // Each kbridge run is its own process with its own token: the next one starts disabled again.
        var next = Run("whoami", "--json").Json().GetProperty("privileges").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "SeShutdownPrivilege");
        Assert.Equal("Disabled", next.GetProperty("state").GetString());
    }

    [Fact]
    public void Whoami_enable_of_an_unknown_privilege_gives_ERROR_NO_SUCH_PRIVILEGE()
    {
        var result = Run("whoami", "--enable", "SeFlyingPrivilege");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("ERROR_NO_SUCH_PRIVILEGE (1313)", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("SeFlyingPrivilege", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public void Whoami_enable_of_a_privilege_the_token_lacks_gives_ERROR_NOT_ALL_ASSIGNED()
    {
        var result = Run("whoami", "--enable", "SeCreateTokenPrivilege");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("ERROR_NOT_ALL_ASSIGNED (1300)", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("SeCreateTokenPrivilege", result.Stderr, StringComparison.Ordinal);
    }
}
