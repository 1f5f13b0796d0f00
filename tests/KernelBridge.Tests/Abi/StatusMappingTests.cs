using KernelBridge.Abi;

namespace KernelBridge.Tests.Abi;

/// <summary>RtlNtStatusToDosError and the NT_* classes, against values Wine's error.c tests assert on Windows.</summary>
public sealed class StatusMappingTests
{
    [Theory]
    [InlineData(0x00000000u, 0u)]
    [InlineData(0x00000103u, 997u)]
    [InlineData(0x80000005u, 234u)]
    [InlineData(0x8000001Au, 259u)]
    [InlineData(0xC0000001u, 31u)]
    [InlineData(0xC0000008u, 6u)]
    [InlineData(0xC000000Du, 87u)]
    [InlineData(0xC0000010u, 1u)]
    [InlineData(0xC0000011u, 38u)]
    [InlineData(0xC0000022u, 5u)]
    [InlineData(0xC0000023u, 122u)]
    [InlineData(0xC0000024u, 6u)]
    [InlineData(0xC0000034u, 2u)]
    [InlineData(0xC000003Au, 3u)]
    [InlineData(0xC0000061u, 1314u)]
    [InlineData(0xC00000D0u, 71u)]
    [InlineData(0xC0000120u, 995u)]
    [InlineData(0xC0000225u, 1168u)]
    [InlineData(0xC0000046u, 288u)]
    [InlineData(0xC0000047u, 298u)]
    [InlineData(0x80070005u, 5u)]
    [InlineData(0xC0070057u, 87u)]
    [InlineData(0xC0DEDEADu, 317u)]
    public void RtlNtStatusToDosError_matches_Windows(uint status, uint error) =>
        Assert.Equal(error, (uint)StatusMapping.RtlNtStatusToDosError((NtStatus)status));

    /// <summary>
    /// Entries that were wrong or missing, with what Windows gives (Wine's dlls/ntdll/error.h, generated
    /// from Windows, and dlls/ntdll/tests/error.c in strict mode): STATUS_NO_MORE_FILES is
    /// ERROR_NO_MORE_FILES, not ERROR_NO_MORE_ITEMS; STATUS_NO_SUCH_DEVICE is ERROR_NO_SUCH_DEVICE;
    /// STATUS_LPC_REPLY_LOST is ERROR_CONNECTION_ABORTED; the rest fell through to ERROR_MR_MID_NOT_FOUND.
    /// </summary>
    [Theory]
    [InlineData(0x80000006u, 18u)]
    [InlineData(0xC000000Eu, 433u)]
    [InlineData(0xC0000253u, 1236u)]
    [InlineData(0x00000001u, 731u)]
    [InlineData(0x0000003Fu, 734u)]
    [InlineData(0x000000BFu, 736u)]
    [InlineData(0x00000100u, 738u)]
    [InlineData(0x00000106u, 1300u)]
    [InlineData(0x00000107u, 1301u)]
    [InlineData(0xC000000Bu, 87u)]
    [InlineData(0xC000000Cu, 541u)]
    [InlineData(0xC0000041u, 5u)]
    [InlineData(0xC0000042u, 6u)]
    [InlineData(0xC000004Bu, 5u)]
    [InlineData(0xC0000060u, 1313u)]
    [InlineData(0xC00000CBu, 66u)]
    public void Regression_RtlNtStatusToDosError_entries_that_differed_from_Windows(uint status, uint error) =>
        Assert.Equal(error, (uint)StatusMapping.RtlNtStatusToDosError((NtStatus)status));

    /// <summary>Windows maps every status KernelBridge names; none of them may fall through to ERROR_MR_MID_NOT_FOUND.</summary>
    [Fact]
    public void Every_status_the_project_names_has_its_Windows_error()
    {
        var unmapped = NtStatusNames.All
            .Where(s => StatusMapping.RtlNtStatusToDosError(s.Value) == Win32Error.ERROR_MR_MID_NOT_FOUND)
            .Select(s => s.Key)
            .ToList();
        Assert.True(unmapped.Count == 0, "no Windows error for " + string.Join(", ", unmapped));
    }

    [Fact]
    public void Customer_codes_come_back_unchanged() =>
        Assert.Equal(0xE0001234u, (uint)StatusMapping.RtlNtStatusToDosError((NtStatus)0xE0001234u));

    [Theory]
    [InlineData(0x00000000u, true, false, false, false)]
    [InlineData(0x40000000u, true, true, false, false)]
    [InlineData(0x80000005u, false, false, true, false)]
    [InlineData(0xC0000022u, false, false, false, true)]
    public void The_severity_classes_follow_the_top_two_bits(uint status, bool success, bool information, bool warning, bool error)
    {
        var s = (NtStatus)status;
        Assert.Equal(success, s.IsSuccess);
        Assert.Equal(information, s.IsInformational);
        Assert.Equal(warning, s.IsWarning);
        Assert.Equal(error, s.IsError);
    }

    [Fact]
    public void Names_and_hex_print_as_Windows_tools_print_them()
    {
        Assert.Equal("STATUS_ACCESS_DENIED (0xC0000022)", NtStatus.STATUS_ACCESS_DENIED.ToString());
        Assert.True(NtStatusNames.TryParse("0xC0000034", out var parsed));
        Assert.Equal(NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, parsed);
        Assert.True(NtStatusNames.TryParse("STATUS_PENDING", out parsed));
        Assert.Equal(NtStatus.STATUS_PENDING, parsed);
    }

    [Theory]
    [InlineData(0x22u, 0x800u, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS, 0x222000u)]
    [InlineData(0x22u, 0x801u, TransferMethod.METHOD_IN_DIRECT, RequiredAccess.FILE_ANY_ACCESS, 0x222005u)]
    [InlineData(0x22u, 0x802u, TransferMethod.METHOD_OUT_DIRECT, RequiredAccess.FILE_ANY_ACCESS, 0x22200Au)]
    [InlineData(0x22u, 0x803u, TransferMethod.METHOD_NEITHER, RequiredAccess.FILE_ANY_ACCESS, 0x22200Fu)]
    [InlineData(0x22u, 0x804u, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_WRITE_ACCESS, 0x22A010u)]
    public void CTL_CODE_encodes_and_decodes(uint type, uint function, TransferMethod method, RequiredAccess access, uint code)
    {
        var made = CtlCode.Make(type, function, method, access);
        Assert.Equal(code, made.Value);
        var decoded = new CtlCode(code);
        Assert.Equal((type, function, method, access), (decoded.DeviceType, decoded.Function, decoded.Method, decoded.Access));
    }
}
