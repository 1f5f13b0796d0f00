using System.Globalization;

namespace KernelBridge.Abi.Security;

/// <summary>The SDDL access-right mnemonics and how Windows prints a mask with them.</summary>
public static class SddlRights
{
    private static readonly (string Name, uint Mask)[] Names =
    [
        ("GA", AccessMask.GENERIC_ALL), ("GR", AccessMask.GENERIC_READ), ("GW", AccessMask.GENERIC_WRITE), ("GX", AccessMask.GENERIC_EXECUTE),
        ("RC", AccessMask.READ_CONTROL), ("SD", AccessMask.DELETE), ("WD", AccessMask.WRITE_DAC), ("WO", AccessMask.WRITE_OWNER),
        ("RP", 0x10), ("WP", 0x20), ("CC", 0x1), ("DC", 0x2), ("LC", 0x4), ("SW", 0x8), ("LO", 0x80), ("DT", 0x40), ("CR", 0x100),
        ("FA", AccessMask.FILE_ALL_ACCESS), ("FR", AccessMask.FILE_GENERIC_READ), ("FW", AccessMask.FILE_GENERIC_WRITE), ("FX", AccessMask.FILE_GENERIC_EXECUTE),
        ("KA", 0xF003F), ("KR", 0x20019), ("KW", 0x20006), ("KX", 0x20019),
    ];

    /// <summary>The name Windows gives each bit when it spells a mask out, from bit 0 up; null where there is none.</summary>
    private static readonly string?[] BitNames = BuildBitNames();

    private static string?[] BuildBitNames()
    {
        var names = new string?[32];
        (int Bit, string Name)[] bits =
        [
            (0, "CC"), (1, "DC"), (2, "LC"), (3, "SW"), (4, "RP"), (5, "WP"), (6, "DT"), (7, "LO"), (8, "CR"),
            (16, "SD"), (17, "RC"), (18, "WD"), (19, "WO"), (28, "GA"), (29, "GX"), (30, "GW"), (31, "GR"),
        ];
        foreach (var (bit, name) in bits) names[bit] = name;
        return names;
    }

    /// <summary>
    /// Parses the rights field of an ACE string: mnemonics run together ("GRGW"), or a number
    /// (0x hex, 0 octal or decimal) — both may be mixed, as Windows accepts "GR0x10".
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out uint mask)
    {
        mask = 0;
        var i = 0;
        while (i < text.Length)
        {
            if (char.IsAsciiDigit(text[i]))
            {
                var start = i;
                int numberBase = 10;
                if (text[i] == '0' && i + 1 < text.Length && (text[i + 1] == 'x' || text[i + 1] == 'X')) { numberBase = 16; i += 2; start = i; }
                else if (text[i] == '0' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1])) { numberBase = 8; i++; start = i; }
                while (i < text.Length && IsDigit(text[i], numberBase)) i++;
                if (i == start && numberBase == 16) return false;
                if (!TryNumber(text[start..i], numberBase, out var value)) return false;
                mask |= value;
                continue;
            }
            if (i + 1 >= text.Length) return false;
            var token = text.Slice(i, 2);
            var found = false;
            foreach (var (name, value) in Names)
            {
                if (token.Equals(name, StringComparison.Ordinal)) { mask |= value; found = true; break; }
            }
            if (!found) return false;
            i += 2;
        }
        return true;
    }

    private static bool IsDigit(char c, int numberBase) => numberBase switch
    {
        16 => char.IsAsciiHexDigit(c),
        8 => c is >= '0' and <= '7',
        _ => char.IsAsciiDigit(c),
    };

    private static bool TryNumber(ReadOnlySpan<char> digits, int numberBase, out uint value)
    {
        value = 0;
        if (digits.Length == 0) return numberBase == 8; // a lone "0"
        ulong total = 0;
        foreach (var c in digits)
        {
            total = total * (ulong)numberBase + (ulong)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
            if (total > uint.MaxValue) return false;
        }
        value = (uint)total;
        return true;
    }

    /// <summary>
    /// Windows' spelling: a mask equal to one mnemonic (FA, KR, GA...) prints as it; a mask every
    /// bit of which has a name prints as those names from bit 0 up; anything else as lowercase hex.
    /// </summary>
    public static string Format(uint mask)
    {
        if (mask == 0) return "";
        foreach (var (name, value) in Names)
            if (value == mask) return name;
        for (var bit = 0; bit < 32; bit++)
            if ((mask & (1u << bit)) != 0 && BitNames[bit] is null) return "0x" + mask.ToString("x", CultureInfo.InvariantCulture);
        var text = new System.Text.StringBuilder();
        for (var bit = 0; bit < 32; bit++)
            if ((mask & (1u << bit)) != 0) text.Append(BitNames[bit]);
        return text.ToString();
    }
}
