using System.Text;

namespace KernelBridge.Abi.Security;

/// <summary>
/// The Security Descriptor Definition Language, as ConvertStringSecurityDescriptorToSecurityDescriptorW
/// reads it and ConvertSecurityDescriptorToStringSecurityDescriptorW prints it: "O:owner G:group
/// D:flags(ace)(ace) S:flags(ace)". Errors are Windows': ERROR_INVALID_PARAMETER for a malformed
/// string, ERROR_INVALID_ACL for anything wrong inside an ACL (type, flags, rights, an unknown SID,
/// a missing parenthesis), ERROR_NONE_MAPPED for an owner or group that names no known account, and
/// ERROR_INVALID_SID for a malformed S-1-... owner or group.
/// </summary>
public static class Sddl
{
    private static readonly (string Name, AceFlags Flag)[] FlagNames =
    [
        ("OI", AceFlags.OBJECT_INHERIT_ACE), ("CI", AceFlags.CONTAINER_INHERIT_ACE), ("NP", AceFlags.NO_PROPAGATE_INHERIT_ACE),
        ("IO", AceFlags.INHERIT_ONLY_ACE), ("ID", AceFlags.INHERITED_ACE), ("SA", AceFlags.SUCCESSFUL_ACCESS_ACE_FLAG),
        ("FA", AceFlags.FAILED_ACCESS_ACE_FLAG),
    ];

    private static readonly (string Name, AceType Type)[] TypeNames =
    [
        ("A", AceType.ACCESS_ALLOWED_ACE_TYPE), ("D", AceType.ACCESS_DENIED_ACE_TYPE), ("AU", AceType.SYSTEM_AUDIT_ACE_TYPE),
        ("AL", AceType.SYSTEM_ALARM_ACE_TYPE), ("ML", AceType.SYSTEM_MANDATORY_LABEL_ACE_TYPE),
    ];

    /// <summary>Parses SDDL; returns ERROR_SUCCESS with the descriptor, or the Win32 error and a sentence saying what is wrong.</summary>
    public static Win32Error TryParse(string? text, out SecurityDescriptor? descriptor, out string error)
    {
        descriptor = null;
        if (text is null) { error = "No SDDL string was given."; return Win32Error.ERROR_INVALID_PARAMETER; }
        Sid? owner = null, group = null;
        Acl? dacl = null, sacl = null;
        var control = SecurityDescriptorControl.None;
        var seen = new HashSet<char>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            if (i >= text.Length) break;
            if (i + 1 >= text.Length || text[i + 1] != ':' || !"OGDS".Contains(text[i], StringComparison.Ordinal))
            {
                error = $"Expected O:, G:, D: or S: at position {i} of \"{text}\".";
                return Win32Error.ERROR_INVALID_PARAMETER;
            }
            var tag = text[i];
            if (!seen.Add(tag)) { error = $"The {tag}: component appears twice."; return Win32Error.ERROR_INVALID_PARAMETER; }
            i += 2;
            var end = NextTag(text, i);
            var value = text[i..end];
            i = end;
            Win32Error result;
            switch (tag)
            {
                case 'O':
                    result = ParseOwnerOrGroup(value, "owner", out owner, out error);
                    break;
                case 'G':
                    result = ParseOwnerOrGroup(value, "group", out group, out error);
                    break;
                default:
                    result = ParseAcl(value, tag == 'D', out var acl, out var flags, out var present, out error);
                    if (tag == 'D') dacl = acl; else sacl = acl;
                    control |= flags;
                    if (present) control |= tag == 'D' ? SecurityDescriptorControl.SE_DACL_PRESENT : SecurityDescriptorControl.SE_SACL_PRESENT;
                    break;
            }
            if (result != Win32Error.ERROR_SUCCESS) return result;
        }
        descriptor = new SecurityDescriptor(owner, group, dacl, sacl, control);
        error = "";
        return Win32Error.ERROR_SUCCESS;
    }

    /// <summary>As <see cref="TryParse"/>, throwing <see cref="FormatException"/> with the message.</summary>
    public static SecurityDescriptor Parse(string text) =>
        TryParse(text, out var descriptor, out var error) == Win32Error.ERROR_SUCCESS ? descriptor! : throw new FormatException(error);

    /// <summary>ConvertStringSidToSid: an SDDL alias ("BA") or "S-1-..."; false means ERROR_INVALID_SID.</summary>
    public static bool TryParseSid(string? text, out Sid? sid)
    {
        sid = null;
        if (text is null) return false;
        var trimmed = text.Trim();
        if (trimmed.Length == 2 && WellKnownSids.TryFromAlias(trimmed, out sid)) return true;
        return Sid.TryParse(trimmed, out sid);
    }

    /// <summary>A SID as SDDL prints it: its alias when it has one, else S-1-....</summary>
    public static string FormatSid(Sid sid) => WellKnownSids.AliasOf(sid) ?? sid.ToString();

    /// <summary>ConvertSecurityDescriptorToStringSecurityDescriptorW: the parts <paramref name="information"/> names, in O G D S order.</summary>
    public static string ToSddl(SecurityDescriptor descriptor, SecurityInformation information)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var text = new StringBuilder();
        if ((information & SecurityInformation.OWNER_SECURITY_INFORMATION) != 0 && descriptor.Owner is { } owner)
            text.Append("O:").Append(FormatSid(owner));
        if ((information & SecurityInformation.GROUP_SECURITY_INFORMATION) != 0 && descriptor.Group is { } group)
            text.Append("G:").Append(FormatSid(group));
        var control = descriptor.Control;
        if ((information & SecurityInformation.DACL_SECURITY_INFORMATION) != 0 && (control & SecurityDescriptorControl.SE_DACL_PRESENT) != 0)
        {
            text.Append("D:");
            AppendAcl(text, descriptor.Dacl, (control & SecurityDescriptorControl.SE_DACL_PROTECTED) != 0,
                (control & SecurityDescriptorControl.SE_DACL_AUTO_INHERIT_REQ) != 0, (control & SecurityDescriptorControl.SE_DACL_AUTO_INHERITED) != 0);
        }
        if ((information & SecurityInformation.SACL_SECURITY_INFORMATION) != 0 && (control & SecurityDescriptorControl.SE_SACL_PRESENT) != 0)
        {
            text.Append("S:");
            AppendAcl(text, descriptor.Sacl, (control & SecurityDescriptorControl.SE_SACL_PROTECTED) != 0,
                (control & SecurityDescriptorControl.SE_SACL_AUTO_INHERIT_REQ) != 0, (control & SecurityDescriptorControl.SE_SACL_AUTO_INHERITED) != 0);
        }
        return text.ToString();
    }

    /// <summary>One ACE as SDDL: "(A;OICI;FA;;;BA)".</summary>
    public static string FormatAce(Ace ace)
    {
        ArgumentNullException.ThrowIfNull(ace);
        var text = new StringBuilder();
        AppendAce(text, ace);
        return text.ToString();
    }

    private static void AppendAcl(StringBuilder text, Acl? acl, bool isProtected, bool autoInheritRequired, bool autoInherited)
    {
        if (isProtected) text.Append('P');
        if (autoInheritRequired) text.Append("AR");
        if (autoInherited) text.Append("AI");
        if (acl is null) { text.Append("NO_ACCESS_CONTROL"); return; }
        foreach (var ace in acl.Aces) AppendAce(text, ace);
    }

    private static void AppendAce(StringBuilder text, Ace ace)
    {
        text.Append('(');
        var typeName = TypeNames.FirstOrDefault(t => t.Type == ace.Type).Name ?? "0x" + ((byte)ace.Type).ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        text.Append(typeName).Append(';');
        foreach (var (name, flag) in FlagNames)
            if ((ace.Flags & flag) != 0) text.Append(name);
        text.Append(';').Append(SddlRights.Format(ace.Mask)).Append(";;;").Append(FormatSid(ace.Sid)).Append(')');
    }

    /// <summary>Where the component starting at <paramref name="start"/> ends: the next "X:" tag outside parentheses, or the end.</summary>
    private static int NextTag(string text, int start)
    {
        var depth = 0;
        for (var i = start; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '(') depth++;
            else if (c == ')') depth--;
            else if (depth == 0 && i + 1 < text.Length && text[i + 1] == ':' && "OGDS".Contains(c, StringComparison.Ordinal)) return i;
        }
        return text.Length;
    }

    private static Win32Error ParseOwnerOrGroup(string value, string what, out Sid? sid, out string error)
    {
        var trimmed = value.Trim();
        error = "";
        if (trimmed.StartsWith("S-", StringComparison.OrdinalIgnoreCase))
        {
            if (Sid.TryParse(trimmed, out sid)) return Win32Error.ERROR_SUCCESS;
            error = $"The {what} \"{trimmed}\" is not a valid SID.";
            return Win32Error.ERROR_INVALID_SID;
        }
        if (trimmed.Length == 2 && WellKnownSids.TryFromAlias(trimmed, out sid)) return Win32Error.ERROR_SUCCESS;
        sid = null;
        error = $"The {what} \"{trimmed}\" is neither an SDDL alias nor a SID.";
        return Win32Error.ERROR_NONE_MAPPED;
    }

    private static Win32Error ParseAcl(string value, bool isDacl, out Acl? acl, out SecurityDescriptorControl flags, out bool present, out string error)
    {
        acl = null;
        flags = SecurityDescriptorControl.None;
        present = true;
        error = "";
        var which = isDacl ? "DACL" : "SACL";
        var i = 0;
        var nullAcl = false;
        // Flags before the first ACE: P, AR, AI, NO_ACCESS_CONTROL.
        while (i < value.Length && value[i] != '(')
        {
            if (char.IsWhiteSpace(value[i])) { i++; continue; }
            var rest = value.AsSpan(i);
            if (rest.StartsWith("NO_ACCESS_CONTROL", StringComparison.Ordinal)) { nullAcl = true; i += "NO_ACCESS_CONTROL".Length; }
            else if (rest.StartsWith("AR", StringComparison.Ordinal)) { flags |= isDacl ? SecurityDescriptorControl.SE_DACL_AUTO_INHERIT_REQ : SecurityDescriptorControl.SE_SACL_AUTO_INHERIT_REQ; i += 2; }
            else if (rest.StartsWith("AI", StringComparison.Ordinal)) { flags |= isDacl ? SecurityDescriptorControl.SE_DACL_AUTO_INHERITED : SecurityDescriptorControl.SE_SACL_AUTO_INHERITED; i += 2; }
            else if (rest[0] == 'P') { flags |= isDacl ? SecurityDescriptorControl.SE_DACL_PROTECTED : SecurityDescriptorControl.SE_SACL_PROTECTED; i++; }
            else if (rest[0] == ')') { error = $"The {which} has a ')' without its '('."; return Win32Error.ERROR_INVALID_PARAMETER; }
            else { error = $"Unknown {which} flag at \"{rest}\" (expected P, AR, AI or NO_ACCESS_CONTROL)."; return Win32Error.ERROR_INVALID_ACL; }
        }
        var aces = new List<Ace>();
        while (i < value.Length)
        {
            if (char.IsWhiteSpace(value[i])) { i++; continue; }
            if (value[i] != '(') { error = $"Unexpected \"{value[i..]}\" after the {which}'s entries."; return Win32Error.ERROR_INVALID_PARAMETER; }
            var close = value.IndexOf(')', i + 1);
            var nextOpen = value.IndexOf('(', i + 1);
            if (close < 0 || (nextOpen >= 0 && nextOpen < close)) { error = $"An ACE of the {which} has no closing ')'."; return Win32Error.ERROR_INVALID_ACL; }
            var result = ParseAce(value[(i + 1)..close], out var ace, out error);
            if (result != Win32Error.ERROR_SUCCESS) return result;
            aces.Add(ace!);
            i = close + 1;
        }
        if (nullAcl && aces.Count > 0) { error = $"NO_ACCESS_CONTROL and ACEs in the same {which}."; return Win32Error.ERROR_INVALID_PARAMETER; }
        if (nullAcl) return Win32Error.ERROR_SUCCESS;
        acl = new Acl(aces);
        if (acl.BinaryLength > ushort.MaxValue) { error = $"The {which} is longer than an ACL can be (64 KB)."; acl = null; return Win32Error.ERROR_INVALID_ACL; }
        return Win32Error.ERROR_SUCCESS;
    }

    private static Win32Error ParseAce(string body, out Ace? ace, out string error)
    {
        ace = null;
        var fields = body.Split(';');
        if (fields.Length is not (6 or 7))
        {
            error = $"\"({body})\" is not an ACE (type;flags;rights;object;inherited object;SID).";
            return Win32Error.ERROR_INVALID_ACL;
        }
        var typeText = fields[0].TrimStart();
        var type = TypeNames.FirstOrDefault(t => t.Name == typeText);
        if (type.Name is null) { error = $"Unknown ACE type \"{fields[0]}\" (KernelBridge knows A, D, AU, AL and ML)."; return Win32Error.ERROR_INVALID_ACL; }
        var flags = AceFlags.None;
        var flagText = fields[1].TrimStart();
        for (var f = 0; f < flagText.Length; f += 2)
        {
            var name = f + 2 <= flagText.Length ? flagText.Substring(f, 2) : flagText[f..];
            var known = FlagNames.FirstOrDefault(n => n.Name == name);
            if (known.Name is null) { error = $"Unknown ACE flag \"{name}\" in \"{fields[1]}\"."; return Win32Error.ERROR_INVALID_ACL; }
            flags |= known.Flag;
        }
        if (!SddlRights.TryParse(fields[2].TrimStart(), out var mask)) { error = $"\"{fields[2]}\" is not an access mask (mnemonics such as GA or FR, or a number such as 0x1f0003)."; return Win32Error.ERROR_INVALID_ACL; }
        if (fields[3].Trim().Length != 0 || fields[4].Trim().Length != 0) { error = "Object ACEs (GUIDs) are not supported."; return Win32Error.ERROR_INVALID_ACL; }
        if (!TryParseSid(fields[5], out var sid)) { error = $"\"{fields[5].Trim()}\" is neither an SDDL alias nor a SID."; return Win32Error.ERROR_INVALID_ACL; }
        ace = new Ace(type.Type, flags, mask, sid!);
        error = "";
        return Win32Error.ERROR_SUCCESS;
    }
}
