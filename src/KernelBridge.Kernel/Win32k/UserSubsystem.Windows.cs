using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Win32k;

internal sealed partial class UserSubsystem
{
    private readonly Dictionary<long, WindowObject> _windows = [];
    /// <summary>Live windows in creation order (what FindWindowEx walks).</summary>
    private readonly List<WindowObject> _windowOrder = [];
    private readonly AtomTable _atoms = new();
    /// <summary>Each process's registered classes (they are per process, as application-local classes are).</summary>
    private readonly Dictionary<ProcessObject, Dictionary<string, ushort>> _classes = [];
    private long _lastWindowIndex;

    /// <summary>HWNDs: even, 32-bit, unique in the kernel's life (the index only grows), so a stale handle never names a new window.</summary>
    private long NewHandleUnsynchronized() => 0x0001_0000 + 2 * ++_lastWindowIndex;

    private WindowObject? WindowOfUnsynchronized(long hwnd) => _windows.TryGetValue(hwnd, out var window) ? window : null;

    private static bool IsValidName(string name) => name.Length is > 0 and <= Abi.Win32k.UserLimits.MaxAtomNameLength;

    /// <summary>RegisterWindowMessage: the same name in any case, from any process, gives the same message (0xC000-0xFFFF).</summary>
    public NtStatus RegisterWindowMessage(string name, out ushort message)
    {
        message = 0;
        if (!IsValidName(name)) return NtStatus.STATUS_INVALID_PARAMETER;
        lock (_lock) message = _atoms.AddUnsynchronized(name);
        return message != 0 ? NtStatus.STATUS_SUCCESS : NtStatus.STATUS_NO_MEMORY;
    }

    /// <summary>RegisterClassEx: the class's atom; ERROR_CLASS_ALREADY_EXISTS if the process has one by that name.</summary>
    public NtStatus RegisterClass(ProcessObject process, string name, out ushort atom)
    {
        atom = 0;
        if (!IsValidName(name)) return NtStatus.STATUS_INVALID_PARAMETER;
        lock (_lock)
        {
            if (process.Terminating) return NtStatus.STATUS_PROCESS_IS_TERMINATING;
            if (!_classes.TryGetValue(process, out var classes)) _classes.Add(process, classes = new Dictionary<string, ushort>(StringComparer.OrdinalIgnoreCase));
            if (classes.ContainsKey(name)) return UserStatus.ClassAlreadyExists;
            atom = _atoms.AddUnsynchronized(name);
            if (atom == 0) return NtStatus.STATUS_NO_MEMORY;
            classes.Add(name, atom);
            return NtStatus.STATUS_SUCCESS;
        }
    }

    /// <summary>UnregisterClass: ERROR_CLASS_DOES_NOT_EXIST, or ERROR_CLASS_HAS_WINDOWS while a window of it lives.</summary>
    public NtStatus UnregisterClass(ProcessObject process, string name)
    {
        lock (_lock)
        {
            if (!_classes.TryGetValue(process, out var classes) || !classes.TryGetValue(name, out var atom)) return UserStatus.ClassDoesNotExist;
            foreach (var window in _windowOrder)
                if (window.ClassAtom == atom && ReferenceEquals(window.Queue.Process, process)) return UserStatus.ClassHasWindows;
            classes.Remove(name);
            return NtStatus.STATUS_SUCCESS;
        }
    }

    /// <summary>
    /// CreateWindowEx: a window of a class the process registered, owned by the calling thread.
    /// The parent is HWND_MESSAGE (message-only) or none; a real parent is not supported here.
    /// </summary>
    public NtStatus CreateWindow(ThreadObject caller, string className, string windowName, long parent, uint style, uint exStyle, out WindowObject? window)
    {
        window = null;
        var wakeups = new Wakeups();
        NtStatus status;
        lock (_lock)
        {
            status = CreateWindowUnsynchronized(caller, className, windowName, parent, style, exStyle, ref wakeups, out window);
        }
        wakeups.Wake(dispatcher);
        return status;
    }

    private NtStatus CreateWindowUnsynchronized(ThreadObject caller, string className, string windowName, long parent, uint style, uint exStyle,
        ref Wakeups wakeups, out WindowObject? window)
    {
        window = null;
        var messageOnly = parent == Abi.Win32k.WindowMessages.HWND_MESSAGE;
        if (!messageOnly && parent != 0)
            return WindowOfUnsynchronized(parent) is null ? UserStatus.InvalidWindowHandle : NtStatus.STATUS_NOT_SUPPORTED;
        if (!_classes.TryGetValue(caller.Process, out var classes) || !classes.TryGetValue(className, out var atom)) return UserStatus.CannotFindClass;
        if (QueueOfUnsynchronized(caller, ref wakeups) is not { } queue) return NtStatus.STATUS_PROCESS_IS_TERMINATING;
        window = new WindowObject(NewHandleUnsynchronized(), queue, atom, windowName, messageOnly, style, exStyle);
        _windows.Add(window.Handle, window);
        _windowOrder.Add(window);
        queue.Windows.Add(window);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>DestroyWindow: only its own thread may (ERROR_ACCESS_DENIED otherwise).</summary>
    public NtStatus DestroyWindow(ThreadObject caller, long hwnd)
    {
        var wakeups = new Wakeups();
        lock (_lock)
        {
            if (WindowOfUnsynchronized(hwnd) is not { } window) return UserStatus.InvalidWindowHandle;
            if (!ReferenceEquals(window.Queue.Thread, caller)) return NtStatus.STATUS_ACCESS_DENIED;
            DestroyWindowUnsynchronized(window, ref wakeups);
        }
        wakeups.Wake(dispatcher);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>The window goes: its handle, its posted messages, and the sent messages not yet taken (their senders get 0).</summary>
    private void DestroyWindowUnsynchronized(WindowObject window, ref Wakeups wakeups)
    {
        window.Destroyed = true;
        _windows.Remove(window.Handle);
        _windowOrder.Remove(window);
        var queue = window.Queue;
        queue.Windows.Remove(window);
        _postedMessages -= queue.Posted.RemoveWindow(window.Handle);
        for (var i = queue.Sent.Count - 1; i >= 0; i--)
        {
            var sent = queue.Sent[i];
            if (sent.Hwnd != window.Handle) continue;
            queue.Sent.RemoveAt(i);
            _sentMessages--;
            CompleteUnsynchronized(sent, 0, UserStatus.ReceiverGone, ref wakeups);
            ReleaseByReceiverUnsynchronized(sent);
        }
    }

    /// <summary>IsWindow / GetWindowThreadProcessId: the live window, or null.</summary>
    public WindowObject? WindowOf(long hwnd)
    {
        lock (_lock) return WindowOfUnsynchronized(hwnd);
    }

    /// <summary>
    /// FindWindowEx: the next window after <paramref name="childAfter"/> (0: the first) under
    /// <paramref name="parent"/> (HWND_MESSAGE: message-only windows; 0: top-level ones) whose class
    /// and name match where given (names in any case). Windows of every process are searched.
    /// </summary>
    public NtStatus FindWindow(long parent, long childAfter, string? className, string? windowName, out WindowObject? found)
    {
        found = null;
        lock (_lock)
        {
            var messageOnly = parent == Abi.Win32k.WindowMessages.HWND_MESSAGE;
            if (!messageOnly && parent != 0) return WindowOfUnsynchronized(parent) is null ? UserStatus.InvalidWindowHandle : NtStatus.STATUS_SUCCESS;
            var start = 0;
            if (childAfter != 0)
            {
                if (WindowOfUnsynchronized(childAfter) is not { } after) return UserStatus.InvalidWindowHandle;
                start = _windowOrder.IndexOf(after) + 1;
            }
            ushort atom = 0;
            if (className is not null && (atom = _atoms.FindUnsynchronized(className)) == 0) return NtStatus.STATUS_SUCCESS;
            for (var i = start; i < _windowOrder.Count; i++)
            {
                var window = _windowOrder[i];
                if (window.MessageOnly != messageOnly) continue;
                if (className is not null && window.ClassAtom != atom) continue;
                if (windowName is not null && !string.Equals(window.Name, windowName, StringComparison.OrdinalIgnoreCase)) continue;
                found = window;
                break;
            }
            return NtStatus.STATUS_SUCCESS;
        }
    }
}
