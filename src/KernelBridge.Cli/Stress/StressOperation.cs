namespace KernelBridge.Cli.Stress;

/// <summary>What a stress thread does, one at a time, chosen at random by <see cref="StressMix"/>; one per door and kind of call.</summary>
internal enum StressOperation
{
    /// <summary>System call: a synchronous METHOD_BUFFERED IOCTL to \Device\Echo.</summary>
    Ioctl,
    /// <summary>System call: an IOCTL that pends in Event_Sample until its 1 ms timer fires (an inverted call).</summary>
    PendingIoctl,
    /// <summary>System call: an event set, then waited on (signalled), then waited on again with a 1 ms timeout.</summary>
    Wait,
    /// <summary>Shared memory: a 64 KiB section created, mapped, written, read back, unmapped, closed.</summary>
    Section,
    /// <summary>Shared memory: a Telemetry shared channel mapped, records sent up and echoed down, stopped, unmapped.</summary>
    Channel,
    /// <summary>Message passing: a filter port connection to \PortSample answering the driver's messages (one connection at a time: others find it busy).</summary>
    Port,
    /// <summary>Message passing: SendMessage to the next worker process's window (cross-process), checking its answer.</summary>
    Window,
}

/// <summary>How often each operation is picked (weights out of <see cref="Total"/>).</summary>
internal static class StressMix
{
    private static readonly (StressOperation Operation, int Weight)[] Weights =
    [
        (StressOperation.Ioctl, 30),
        (StressOperation.PendingIoctl, 10),
        (StressOperation.Wait, 15),
        (StressOperation.Section, 15),
        (StressOperation.Channel, 10),
        (StressOperation.Port, 5),
        (StressOperation.Window, 15),
    ];

    private static readonly int Total = Weights.Sum(w => w.Weight);

    public static int Count => Weights.Length;

    public static StressOperation Pick(Random random)
    {
        var roll = random.Next(Total);
        foreach (var (operation, weight) in Weights)
        {
            if (roll < weight) return operation;
            roll -= weight;
        }
        return StressOperation.Ioctl;
    }
}
