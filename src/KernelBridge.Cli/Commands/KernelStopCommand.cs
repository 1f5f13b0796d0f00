using System.CommandLine;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Platform;

namespace KernelBridge.Cli.Commands;

/// <summary>
/// kbridge kernel stop: asks the instance's kernel to stop (KbShutdownKernel) and waits until it is
/// gone. Stopping an instance with no kernel is not an error: the instance is stopped either way.
/// </summary>
internal static class KernelStopCommand
{
    public static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(10);

    public static Command Create()
    {
        var command = new Command("stop", "Stop the instance's kernel (its clients get STATUS_PORT_DISCONNECTED)");
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            var instance = InstanceDirectory.Open(CommonOptions.InstanceName(parse), create: false);
            using var gate = KernelPresence.ConnectIfRunning(instance, out var staleSocket);
            if (gate is null)
            {
                Console.Out.WriteLine(KernelStatusCommand.NotRunningMessage(instance, staleSocket));
                return 0;
            }
            var pid = gate.KernelProcessId;
            Console.Out.WriteLine(StopAndWait(gate, instance)
                ? $"stopped the kernel of instance '{instance.Instance}' (pid {pid})"
                : $"asked the kernel (pid {pid}) to stop; it has not finished yet");
            return 0;
        }));
        return command;
    }

    /// <summary>Asks the kernel behind <paramref name="gate"/> to stop, then waits (bounded) until its socket and process are gone.</summary>
    public static bool StopAndWait(GateClient gate, InstanceDirectory instance)
    {
        // A failure here means the kernel went first (idle, or stopped by someone else): the wait says whether it is gone.
        KernelControl.Shutdown(gate);
        return KernelPresence.WaitUntilGone(instance.SocketPath, gate.KernelProcessId, WaitLimit);
    }
}
