namespace KernelBridge.Abi.Rings;

/// <summary>
/// Space a writer reserved for one record: fill <see cref="Payload"/>, then <see cref="Commit"/>.
/// Until then the reader sees the record as pending, never as data. Several reservations may be
/// open at once (a batch): commit each, then ring the doorbell once with <see cref="RingWriter.Notify"/>.
/// </summary>
public readonly unsafe ref struct RingReservation
{
    private readonly int* _lengthWord;
    private readonly int _recordLength;

    public Span<byte> Payload { get; }

    internal RingReservation(RingRecordHeader* record, int recordLength, int payloadLength)
    {
        _lengthWord = &record->Length;
        _recordLength = recordLength;
        Payload = new Span<byte>(record + 1, payloadLength);
    }

    /// <summary>Publishes the record. The payload must be written before: this is the release that makes it visible.</summary>
    public void Commit()
    {
        // Release: every store to the payload (and the type) happens-before a reader's acquire of the length.
        if (_lengthWord is not null) Volatile.Write(ref *_lengthWord, _recordLength);
    }
}
