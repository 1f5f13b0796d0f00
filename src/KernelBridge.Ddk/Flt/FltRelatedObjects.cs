namespace KernelBridge.Ddk;

/// <summary>FLT_RELATED_OBJECTS: the filter, volume, instance and file an operation concerns.</summary>
public sealed record FltRelatedObjects(FltFilter Filter, FltVolume Volume, FltInstance Instance, FileObject? FileObject);
