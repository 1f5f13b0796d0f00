namespace KernelBridge.Kernel.Flt;

/// <summary>The filter manager's FLT_INSTANCE: a filter on one volume's frame.</summary>
internal sealed class FilterInstance(RegisteredFilter filter, FltVolume volume, VolumeFrame frame) : FltInstance(filter, volume)
{
    public RegisteredFilter Registered { get; } = filter;
    public VolumeFrame Frame { get; } = frame;

    /// <summary>Set when teardown starts: post-callbacks still due are called with FLTFL_POST_OPERATION_DRAINING, pre-callbacks no more.</summary>
    public bool TearingDown { get; set; }

    public FltRelatedObjects Related(FileObject? file) => new(Registered, Volume, this, file);
}
