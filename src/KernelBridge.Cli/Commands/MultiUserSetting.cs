using KernelBridge.Kernel;
using KernelBridge.Platform;

namespace KernelBridge.Cli.Commands;

/// <summary>`kbridge kernel --multi-user [--group NAME] [--dir PATH]`: where a shared kernel lives and who may connect.</summary>
internal static class MultiUserSetting
{
    /// <summary>
    /// The options with the multi-user settings; --dir (or a multi-user kernel's default place) becomes
    /// KERNELBRIDGE_INSTANCE_DIR for this process, so every part of it (takeover, status) finds the same directory.
    /// ArgumentException for --group without --multi-user or an unknown group.
    /// </summary>
    public static KernelOptions Apply(bool multiUser, string? group, string? directory, KernelOptions options)
    {
        if (group is not null && !multiUser) throw new ArgumentException("--group needs --multi-user");
        if (group is not null) InstanceDirectory.ResolveGroup(group);
        var path = directory ?? InstanceDirectory.ExplicitPath() ?? (multiUser ? InstanceDirectory.MultiUserDefaultPath(options.Instance) : null);
        if (path is not null) Environment.SetEnvironmentVariable(InstanceDirectory.DirectoryVariable, Path.GetFullPath(path));
        return options with { MultiUser = multiUser, MultiUserGroup = group };
    }
}
