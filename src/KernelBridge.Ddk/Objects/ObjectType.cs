using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>
/// An object type (POBJECT_TYPE): its name, the rights that mean something for it and how generic
/// rights map onto them. Drivers name types when they reference objects by handle
/// (<see cref="Ob.ReferenceObjectByHandle"/>). Immutable: each kernel keeps its own counts and
/// procedures per type, so two kernels in one process share nothing through it.
/// </summary>
public sealed class ObjectType
{
    internal ObjectType(int index, string name, uint validAccessMask, GenericMapping genericMapping, bool waitable, bool caseInsensitive = false)
    {
        Index = index;
        Name = name;
        CaseInsensitive = caseInsensitive;
        ValidAccessMask = validAccessMask;
        GenericMapping = genericMapping;
        Waitable = waitable;
    }

    public string Name { get; }
    public uint ValidAccessMask { get; }
    public GenericMapping GenericMapping { get; }
    /// <summary>
    /// Lookups for this type ignore case even without OBJ_CASE_INSENSITIVE (ObCaseInsensitive is on
    /// by default): directories, links, devices, files. Events, mutants and the like stay case-sensitive.
    /// </summary>
    public bool CaseInsensitive { get; }

    /// <summary>Whether a handle to an object of this type can be waited on.</summary>
    public bool Waitable { get; }

    /// <summary>The type's place in <see cref="ObjectTypes.All"/>: where each kernel keeps its own per-type state (counts, procedures).</summary>
    internal int Index { get; }

    public override string ToString() => Name;
}

/// <summary>The object types of the system, as wdm.h exports them (IoFileObjectType, ExEventObjectType, ...).</summary>
public static class ObjectTypes
{
    private static readonly GenericMapping StandardMapping = new(
        AccessMask.STANDARD_RIGHTS_READ | 0x1, AccessMask.STANDARD_RIGHTS_WRITE | 0x2,
        AccessMask.STANDARD_RIGHTS_EXECUTE | AccessMask.SYNCHRONIZE, AccessMask.STANDARD_RIGHTS_REQUIRED | AccessMask.SYNCHRONIZE | 0x3);

    public static readonly ObjectType Type = new(0, "Type", AccessMask.STANDARD_RIGHTS_REQUIRED | 1, StandardMapping, false, caseInsensitive: true);
    public static readonly ObjectType Directory = new(1, "Directory", AccessMask.DIRECTORY_ALL_ACCESS,
        new(AccessMask.STANDARD_RIGHTS_READ | AccessMask.DIRECTORY_QUERY | AccessMask.DIRECTORY_TRAVERSE,
            AccessMask.STANDARD_RIGHTS_WRITE | AccessMask.DIRECTORY_CREATE_OBJECT | AccessMask.DIRECTORY_CREATE_SUBDIRECTORY,
            AccessMask.STANDARD_RIGHTS_EXECUTE | AccessMask.DIRECTORY_QUERY | AccessMask.DIRECTORY_TRAVERSE,
            AccessMask.DIRECTORY_ALL_ACCESS), false, caseInsensitive: true);
    public static readonly ObjectType SymbolicLink = new(2, "SymbolicLink", AccessMask.SYMBOLIC_LINK_ALL_ACCESS,
        new(AccessMask.STANDARD_RIGHTS_READ | AccessMask.SYMBOLIC_LINK_QUERY, AccessMask.STANDARD_RIGHTS_WRITE,
            AccessMask.STANDARD_RIGHTS_EXECUTE | AccessMask.SYMBOLIC_LINK_QUERY, AccessMask.SYMBOLIC_LINK_ALL_ACCESS), false, caseInsensitive: true);
    public static readonly ObjectType Driver = new(3, "Driver", AccessMask.STANDARD_RIGHTS_REQUIRED | 0x1FF, GenericMapping.File, false, caseInsensitive: true);
    public static readonly ObjectType Device = new(4, "Device", AccessMask.FILE_ALL_ACCESS, GenericMapping.File, false, caseInsensitive: true);
    public static readonly ObjectType File = new(5, "File", AccessMask.FILE_ALL_ACCESS, GenericMapping.File, true, caseInsensitive: true);
    public static readonly ObjectType Process = new(6, "Process", AccessMask.PROCESS_ALL_ACCESS,
        new(AccessMask.STANDARD_RIGHTS_READ | AccessMask.PROCESS_QUERY_INFORMATION, AccessMask.STANDARD_RIGHTS_WRITE | 0xBEA,
            AccessMask.STANDARD_RIGHTS_EXECUTE | AccessMask.SYNCHRONIZE | AccessMask.PROCESS_QUERY_LIMITED_INFORMATION,
            AccessMask.PROCESS_ALL_ACCESS), true);
    public static readonly ObjectType Thread = new(7, "Thread", AccessMask.THREAD_ALL_ACCESS,
        new(AccessMask.STANDARD_RIGHTS_READ | AccessMask.THREAD_QUERY_INFORMATION, AccessMask.STANDARD_RIGHTS_WRITE | 0x37,
            AccessMask.STANDARD_RIGHTS_EXECUTE | AccessMask.SYNCHRONIZE, AccessMask.THREAD_ALL_ACCESS), true);
    public static readonly ObjectType Event = new(8, "Event", AccessMask.EVENT_ALL_ACCESS,
        new(AccessMask.STANDARD_RIGHTS_READ | AccessMask.EVENT_QUERY_STATE, AccessMask.STANDARD_RIGHTS_WRITE | AccessMask.EVENT_MODIFY_STATE,
            AccessMask.STANDARD_RIGHTS_EXECUTE | AccessMask.SYNCHRONIZE, AccessMask.EVENT_ALL_ACCESS), true);
    public static readonly ObjectType Semaphore = new(9, "Semaphore", AccessMask.SEMAPHORE_ALL_ACCESS,
        new(AccessMask.STANDARD_RIGHTS_READ | AccessMask.SEMAPHORE_QUERY_STATE, AccessMask.STANDARD_RIGHTS_WRITE | AccessMask.SEMAPHORE_MODIFY_STATE,
            AccessMask.STANDARD_RIGHTS_EXECUTE | AccessMask.SYNCHRONIZE, AccessMask.SEMAPHORE_ALL_ACCESS), true);
    public static readonly ObjectType Mutant = new(10, "Mutant", AccessMask.MUTANT_ALL_ACCESS,
        new(AccessMask.STANDARD_RIGHTS_READ | AccessMask.MUTANT_QUERY_STATE, AccessMask.STANDARD_RIGHTS_WRITE,
            AccessMask.STANDARD_RIGHTS_EXECUTE | AccessMask.SYNCHRONIZE, AccessMask.MUTANT_ALL_ACCESS), true);
    public static readonly ObjectType Timer = new(11, "Timer", AccessMask.TIMER_ALL_ACCESS,
        new(AccessMask.STANDARD_RIGHTS_READ | AccessMask.TIMER_QUERY_STATE, AccessMask.STANDARD_RIGHTS_WRITE | AccessMask.TIMER_MODIFY_STATE,
            AccessMask.STANDARD_RIGHTS_EXECUTE | AccessMask.SYNCHRONIZE, AccessMask.TIMER_ALL_ACCESS), true);
    public static readonly ObjectType IoCompletion = new(12, "IoCompletion", AccessMask.IO_COMPLETION_ALL_ACCESS,
        new(AccessMask.STANDARD_RIGHTS_READ | AccessMask.IO_COMPLETION_QUERY_STATE, AccessMask.STANDARD_RIGHTS_WRITE | AccessMask.IO_COMPLETION_MODIFY_STATE,
            AccessMask.STANDARD_RIGHTS_EXECUTE | AccessMask.SYNCHRONIZE, AccessMask.IO_COMPLETION_ALL_ACCESS), true);

    /// <summary>MmSectionObjectType: shared memory; SECTION_MAP_EXECUTE_EXPLICIT is valid but no generic right grants it.</summary>
    public static readonly ObjectType Section = new(13, "Section", AccessMask.SECTION_ALL_ACCESS | AccessMask.SECTION_MAP_EXECUTE_EXPLICIT,
        new(AccessMask.STANDARD_RIGHTS_READ | AccessMask.SECTION_QUERY | AccessMask.SECTION_MAP_READ,
            AccessMask.STANDARD_RIGHTS_WRITE | AccessMask.SECTION_MAP_WRITE,
            AccessMask.STANDARD_RIGHTS_EXECUTE | AccessMask.SECTION_MAP_EXECUTE, AccessMask.SECTION_ALL_ACCESS), false);

    /// <summary>A minifilter's server port (FltCreateCommunicationPort); FLT_PORT_CONNECT (1) is its one specific right.</summary>
    public static readonly ObjectType FilterConnectionPort = new(14, "FilterConnectionPort", AccessMask.STANDARD_RIGHTS_REQUIRED | AccessMask.SYNCHRONIZE | 0x1,
        StandardMapping, false);
    /// <summary>One connection to a server port: the client port the connect callback gets.</summary>
    public static readonly ObjectType FilterCommunicationPort = new(15, "FilterCommunicationPort", AccessMask.STANDARD_RIGHTS_REQUIRED | AccessMask.SYNCHRONIZE | 0x1,
        StandardMapping, false);

    /// <summary>SeTokenObjectType: an access token; TOKEN_* rights, TOKEN_READ/WRITE/EXECUTE/ALL_ACCESS as its generic mapping.</summary>
    public static readonly ObjectType Token = new(16, "Token", Abi.Security.TokenAccess.TOKEN_ALL_ACCESS, Abi.Security.TokenAccess.Mapping, false);

    /// <summary>Every type, in the order the object manager creates them at boot.</summary>
    public static IReadOnlyList<ObjectType> All { get; } =
        [Type, Directory, SymbolicLink, Driver, Device, File, Process, Thread, Event, Semaphore, Mutant, Timer, IoCompletion, Section, FilterConnectionPort,
         FilterCommunicationPort, Token];
}
