using System.Globalization;

namespace KernelBridge.Drivers.RamDisk;

/// <summary>The sizes a RAM disk may have: a whole number of sectors, at least one.</summary>
public static class RamDiskSize
{
    /// <summary>Null if <paramref name="bytes"/> can be a disk's size, else why not (one sentence).</summary>
    public static string? Problem(long bytes) =>
        bytes > 0 && bytes % RamDiskInterface.SectorSize == 0
            ? null
            : $"{bytes.ToString(CultureInfo.InvariantCulture)} bytes is not a whole number of {RamDiskInterface.SectorSize}-byte sectors, from one up";

    /// <summary>
    /// A size as a person writes it: bytes, or a whole number of K, M or G (binary units);
    /// null with the <paramref name="problem"/> if it is not a size the disk can have.
    /// </summary>
    public static long? Parse(string text, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        var digits = text.Trim();
        var shift = digits.Length > 0 ? char.ToUpperInvariant(digits[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, _ => 0 } : 0;
        if (shift != 0) digits = digits[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > long.MaxValue >> shift)
        {
            problem = $"'{text}' is not a number of bytes (K, M or G may follow)";
            return null;
        }
        problem = Problem(value << shift);
        return problem is null ? value << shift : null;
    }
}
