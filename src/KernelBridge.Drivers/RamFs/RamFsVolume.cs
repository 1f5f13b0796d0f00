using KernelBridge.Abi;

namespace KernelBridge.Drivers.RamFs;

/// <summary>
/// The volume (the device extension of \Device\RamFs): the directory tree, the space it may use,
/// and the one lock that guards every FCB and CCB of the volume. Operations are short memory
/// copies and dictionary look-ups, so one lock costs little and keeps every rule simple.
/// </summary>
public sealed class RamFsVolume
{
    public RamFsVolume(long capacity)
    {
        Capacity = capacity;
        Root = new RamFsFcb(this, null, "", isDirectory: true, isVolume: false, NextId(), FileAttributeFlags.None);
        VolumeFcb = new RamFsFcb(this, null, "", isDirectory: false, isVolume: true, 0, FileAttributeFlags.None);
    }

    /// <summary>Guards the tree and every FCB's and CCB's state.</summary>
    internal readonly Lock Sync = new();

    public RamFsFcb Root { get; }

    /// <summary>The FCB of opens of the volume itself.</summary>
    internal RamFsFcb VolumeFcb { get; }

    /// <summary>Bytes the volume may hold: file data plus <see cref="RamFsInterface.EntryCost"/> per entry.</summary>
    public long Capacity { get; }

    /// <summary>Bytes charged now.</summary>
    public long Used { get; private set; }

    private long _lastId;

    internal long NextId() => ++_lastId;

    /// <summary>A FILETIME: 100 ns units since 1601 (UTC).</summary>
    internal static long Now() => DateTime.UtcNow.ToFileTimeUtc();

    /// <summary>Charges <paramref name="bytes"/> of space, or says STATUS_DISK_FULL and charges nothing.</summary>
    internal NtStatus Charge(long bytes)
    {
        if (bytes > Capacity - Used) return NtStatus.STATUS_DISK_FULL;
        Used += bytes;
        return NtStatus.STATUS_SUCCESS;
    }

    internal void Release(long bytes) => Used -= bytes;

    /// <summary>
    /// The directory that holds the last of <paramref name="parts"/>: STATUS_OBJECT_PATH_NOT_FOUND if
    /// any directory on the way is missing or is a file.
    /// </summary>
    internal NtStatus FindParent(string[] parts, out RamFsFcb parent)
    {
        parent = Root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            if (!parent.Children!.TryGetValue(parts[i], out var next) || !next.IsDirectory) return NtStatus.STATUS_OBJECT_PATH_NOT_FOUND;
            parent = next;
        }
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>A new file or directory in <paramref name="parent"/>, its entry charged; STATUS_DISK_FULL if there is no room.</summary>
    internal NtStatus Add(RamFsFcb parent, string name, bool isDirectory, FileAttributeFlags attributes, out RamFsFcb? created)
    {
        created = null;
        var status = Charge(RamFsInterface.EntryCost);
        if (!status.IsSuccess) return status;
        created = new RamFsFcb(this, parent, name, isDirectory, isVolume: false, NextId(), attributes);
        parent.Children!.Add(name, created);
        parent.LastWriteTime = parent.ChangeTime = created.CreationTime;
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>Sets the end of file, zero-filling what it adds; STATUS_DISK_FULL (and no change) past the capacity.</summary>
    internal NtStatus Resize(RamFsFcb fcb, long length)
    {
        var growth = length - fcb.Length;
        if (growth > 0)
        {
            var status = Charge(growth);
            if (!status.IsSuccess) return status;
            if (length > fcb.Data.Length)
            {
                // Room to grow into, so that appending is not a copy each time.
                var room = Math.Max(length, Math.Min(fcb.Data.LongLength * 2, length + (1L << 20)));
                var data = GC.AllocateUninitializedArray<byte>((int)Math.Min(room, Array.MaxLength));
                fcb.Data.AsSpan(0, (int)fcb.Length).CopyTo(data);
                fcb.Data = data;
            }
            fcb.Data.AsSpan((int)fcb.Length, (int)growth).Clear();
        }
        else
        {
            Release(-growth);
            // A file cut to nothing gives its memory back.
            if (length == 0) fcb.Data = [];
        }
        fcb.Length = length;
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>Takes the file out of its directory: nothing can open it by name again (its opens still work).</summary>
    internal void Unlink(RamFsFcb fcb)
    {
        if (fcb.Unlinked || fcb.Parent is null) return;
        fcb.Parent.Children!.Remove(fcb.Name);
        fcb.Parent.LastWriteTime = fcb.Parent.ChangeTime = Now();
        fcb.Unlinked = true;
    }

    /// <summary>The last handle of an unlinked file is gone: its entry and data are given back.</summary>
    internal void Free(RamFsFcb fcb)
    {
        if (fcb.Freed) return;
        fcb.Freed = true;
        Release(RamFsInterface.EntryCost + fcb.Length);
        fcb.Length = 0;
        fcb.Data = [];
    }
}
