using System.Buffers.Binary;

namespace KernelBridge.Fuzz;

/// <summary>
/// A few of AFL's havoc moves, seeded, for a fuzz run without AFL (CI's smoke run and the test):
/// bit flips, interesting values over frame fields, lengths set wrong, bytes cut, frames doubled.
/// </summary>
public sealed class ByteMutator(int seed)
{
    private static readonly uint[] Interesting = [0, 1, 2, 15, 16, 17, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF, 64 * 1024 * 1024];

    private readonly Random _random = new(seed);

    public byte[] Mutate(byte[] input)
    {
        var bytes = input.ToList();
        var moves = 1 + _random.Next(4);
        for (var i = 0; i < moves && bytes.Count > 0; i++)
        {
            switch (_random.Next(7))
            {
                case 0:
                    var bit = _random.Next(bytes.Count * 8);
                    bytes[bit / 8] ^= (byte)(1 << (bit % 8));
                    break;
                case 1:
                    bytes[_random.Next(bytes.Count)] = (byte)_random.Next(256);
                    break;
                case 2:
                    // A 4-byte field (frame length, handle, count, length of a data item) set to an interesting value.
                    var at = _random.Next(bytes.Count / 4 + 1) * 4;
                    var value = Interesting[_random.Next(Interesting.Length)];
                    for (var b = 0; b < 4 && at + b < bytes.Count; b++) bytes[at + b] = (byte)(value >> (8 * b));
                    break;
                case 3:
                    var from = _random.Next(bytes.Count);
                    bytes.RemoveRange(from, 1 + _random.Next(Math.Min(16, bytes.Count - from)));
                    break;
                case 4:
                    bytes.AddRange(input);
                    break;
                case 5:
                    // The service number (the frame's Code) set to any value: unknown services, and every known one with another's request.
                    if (bytes.Count >= 8) BinaryPrimitives.WriteUInt16LittleEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes)[6..], (ushort)_random.Next(256));
                    break;
                default:
                    bytes.Insert(_random.Next(bytes.Count), (byte)_random.Next(256));
                    break;
            }
        }
        return [.. bytes];
    }
}
