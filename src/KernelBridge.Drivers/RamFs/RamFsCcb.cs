namespace KernelBridge.Drivers.RamFs;

/// <summary>The CCB: one open of an FCB (FileObject.FsContext2), with what belongs to that open alone.</summary>
public sealed class RamFsCcb
{
    /// <summary>FILE_DELETE_ON_CLOSE (or FileDispositionInformationEx's FILE_DISPOSITION_ON_CLOSE): the file becomes delete-pending at this open's cleanup.</summary>
    internal bool DeleteOnClose;

    /// <summary>IRP_MJ_CLEANUP has come for this open.</summary>
    internal bool CleanedUp;

    /// <summary>The directory listing's pattern, fixed by the first query (null until then).</summary>
    internal string? Pattern;

    /// <summary>How many of "." and ".." the listing has returned (a non-root directory lists both first).</summary>
    internal int DotsReturned;

    /// <summary>The name the listing returned last: the next query resumes after it, in name order.</summary>
    internal string? ResumeAfter;
}
