using System.Text;

namespace KernelBridge.Samples.Scanner;

/// <summary>The "signatures" the service looks for: byte strings, matched case-insensitively for ASCII letters.</summary>
internal sealed class ScanPatterns(IEnumerable<string> patterns)
{
    private readonly byte[][] _patterns = [.. patterns.Where(p => p.Length > 0).Select(p => Encoding.UTF8.GetBytes(p.ToLowerInvariant()))];

    public IReadOnlyList<byte[]> Patterns => _patterns;

    /// <summary>The first pattern the content holds, or null if it is clean.</summary>
    public string? Find(ReadOnlySpan<byte> content)
    {
        if (content.IsEmpty) return null;
        Span<byte> lower = content.Length <= 64 * 1024 ? stackalloc byte[content.Length] : new byte[content.Length];
        for (var i = 0; i < content.Length; i++) lower[i] = content[i] is >= (byte)'A' and <= (byte)'Z' ? (byte)(content[i] | 0x20) : content[i];
        foreach (var pattern in _patterns)
            if (lower.IndexOf(pattern) >= 0) return Encoding.UTF8.GetString(pattern);
        return null;
    }
}
