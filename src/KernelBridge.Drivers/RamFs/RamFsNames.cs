using KernelBridge.Abi;

namespace KernelBridge.Drivers.RamFs;

/// <summary>Names on the volume: parsing a path into its parts, what a valid name is, and matching a listing's pattern.</summary>
internal static class RamFsNames
{
    // The DOS wildcards a Win32 pattern is turned into (ntifs.h DOS_STAR, DOS_QM, DOS_DOT).
    public const char DosStar = '<';
    public const char DosQm = '>';
    public const char DosDot = '"';

    /// <summary>
    /// Splits "\dir\a.txt" into its parts. "" and "\" are the root (no parts); a trailing backslash
    /// is allowed and reported. Empty parts, "." and "..", names too long or with characters a file
    /// name cannot hold are STATUS_OBJECT_NAME_INVALID.
    /// </summary>
    public static NtStatus Parse(string path, out string[] parts, out bool trailingBackslash)
    {
        parts = [];
        trailingBackslash = false;
        if (path.Length == 0 || path == @"\") return NtStatus.STATUS_SUCCESS;
        if (path[0] != '\\') return NtStatus.STATUS_OBJECT_NAME_INVALID;
        var body = path[1..];
        if (body.EndsWith('\\'))
        {
            trailingBackslash = true;
            body = body[..^1];
        }
        parts = body.Split('\\');
        foreach (var part in parts)
            if (!IsValidName(part)) return NtStatus.STATUS_OBJECT_NAME_INVALID;
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>A name NTFS would take for one file or directory.</summary>
    public static bool IsValidName(string name)
    {
        if (name.Length == 0 || name.Length > RamFsInterface.MaxComponentLength || name is "." or "..") return false;
        foreach (var c in name)
            if (c < 0x20 || c is '"' or '*' or '/' or ':' or '<' or '>' or '?' or '\\' or '|') return false;
        return true;
    }

    /// <summary>Whether the pattern has wildcards (FsRtlDoesNameContainWildCards).</summary>
    public static bool HasWildcards(string pattern) => pattern.AsSpan().IndexOfAny("*?<>\"") >= 0;

    /// <summary>
    /// FsRtlIsNameInExpression, ignoring case: '*' matches any run of characters, '?' exactly one;
    /// DOS_STAR any run up to the name's last '.', DOS_QM one character or none at a '.' or the end,
    /// DOS_DOT a '.' or the end of the name.
    /// </summary>
    public static bool Matches(string pattern, string name)
    {
        if (pattern == "*") return true;
        var memo = new sbyte[(pattern.Length + 1) * (name.Length + 1)];
        return Match(pattern, name, 0, 0, memo);
    }

    private static bool Match(string pattern, string name, int p, int n, sbyte[] memo)
    {
        var slot = p * (name.Length + 1) + n;
        if (memo[slot] != 0) return memo[slot] > 0;
        var result = MatchUncached(pattern, name, p, n, memo);
        memo[slot] = result ? (sbyte)1 : (sbyte)-1;
        return result;
    }

    private static bool MatchUncached(string pattern, string name, int p, int n, sbyte[] memo)
    {
        if (p == pattern.Length) return n == name.Length;
        var atEnd = n == name.Length;
        switch (pattern[p])
        {
            case '*':
                return Match(pattern, name, p + 1, n, memo) || (!atEnd && Match(pattern, name, p, n + 1, memo));
            case '?':
                return !atEnd && Match(pattern, name, p + 1, n + 1, memo);
            case DosStar:
                if (Match(pattern, name, p + 1, n, memo)) return true;
                // It may take a '.' only if another one follows: it stops at the last.
                return !atEnd && (name[n] != '.' || name.IndexOf('.', n + 1) >= 0) && Match(pattern, name, p, n + 1, memo);
            case DosQm:
                return atEnd || name[n] == '.' ? Match(pattern, name, p + 1, n, memo) : Match(pattern, name, p + 1, n + 1, memo);
            case DosDot:
                return atEnd ? Match(pattern, name, p + 1, n, memo) : name[n] == '.' && Match(pattern, name, p + 1, n + 1, memo);
            default:
                return !atEnd && char.ToUpperInvariant(pattern[p]) == char.ToUpperInvariant(name[n]) && Match(pattern, name, p + 1, n + 1, memo);
        }
    }
}
