namespace KernelBridge.Ddk;

/// <summary>
/// SHARE_ACCESS: what the opens of one file (a file system keeps one per stream, in its FCB) have
/// taken and what they let others take. Kept by <see cref="Io.SetShareAccess"/>,
/// <see cref="Io.CheckShareAccess"/>, <see cref="Io.UpdateShareAccess"/> and
/// <see cref="Io.RemoveShareAccess"/>, under the file system's own lock.
/// </summary>
public sealed class SHARE_ACCESS
{
    /// <summary>Opens that asked for read, write or delete access (opens for attributes alone are not counted).</summary>
    public int OpenCount;
    public int Readers;
    public int Writers;
    public int Deleters;
    public int SharedRead;
    public int SharedWrite;
    public int SharedDelete;

    public override string ToString() =>
        $"open {OpenCount}: r{Readers} w{Writers} d{Deleters}, sharing r{SharedRead} w{SharedWrite} d{SharedDelete}";
}
