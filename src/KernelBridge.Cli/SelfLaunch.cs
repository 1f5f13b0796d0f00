using System.Reflection;

namespace KernelBridge.Cli;

/// <summary>How to run this kbridge again (bench peers, stress workers): the apphost itself, or `dotnet kbridge.dll`.</summary>
internal static class SelfLaunch
{
    /// <summary>The program and the arguments before kbridge's own; null if this process cannot tell what it is.</summary>
    public static (string Program, string[] Prefix)? Resolve()
    {
        var host = Environment.ProcessPath;
        if (host is null) return null;
        if (!string.Equals(Path.GetFileNameWithoutExtension(host), "dotnet", StringComparison.Ordinal)) return (host, []);
        var assembly = Assembly.GetEntryAssembly()?.Location;
        if (string.IsNullOrEmpty(assembly)) assembly = Path.Combine(AppContext.BaseDirectory, "kbridge.dll");
        return (host, [assembly]);
    }
}
