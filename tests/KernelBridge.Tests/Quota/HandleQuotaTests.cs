using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Quota;

/// <summary>
/// --max-handles: a process's handle table holds at most that many handles. The next open fails with
/// STATUS_INSUFFICIENT_RESOURCES (what ObpCreateHandle returns when the handle table cannot take one
/// more), creates nothing, and leaves every other process alone; a close makes room again.
/// </summary>
public sealed class HandleQuotaTests
{
    private const int Limit = 12;

    [Fact]
    public void The_handle_past_the_quota_fails_with_STATUS_INSUFFICIENT_RESOURCES_and_a_close_makes_room()
    {
        using var kernel = QuotaTest.StartKernel("q-handles", "--max-handles", $"{Limit}");
        using var hostile = QuotaTest.Connect(kernel);
        using var other = QuotaTest.Connect(kernel);
        var handles = new List<nint>();
        for (var i = 0; i < Limit; i++)
        {
            Assert.Equal(NtStatus.STATUS_SUCCESS, QuotaTest.CreateEvent(hostile, out var handle));
            handles.Add(handle);
        }
        var objectsAtLimit = KernelControl.QueryState(other).Objects;

        Assert.Equal(NtStatus.STATUS_INSUFFICIENT_RESOURCES, QuotaTest.CreateEvent(hostile, out var refused));
        Assert.Equal(0, refused);
        // Nothing was made for the refused call.
        Assert.Equal(objectsAtLimit, KernelControl.QueryState(other).Objects);

        // Another process has its own quota.
        Assert.Equal(NtStatus.STATUS_SUCCESS, QuotaTest.CreateEvent(other, out var theirs));
        Assert.Equal(NtStatus.STATUS_SUCCESS, QuotaTest.Close(other, theirs));

        // The usage is shown against the limit.
        var quotas = KernelControl.QueryQuotas(other);
        Assert.Equal(Limit, quotas.MaxHandles);
        Assert.Contains(quotas.RowsOf(Environment.ProcessId), row => row.Handles == Limit);

        // One close, one more handle.
        Assert.Equal(NtStatus.STATUS_SUCCESS, QuotaTest.Close(hostile, handles[^1]));
        handles.RemoveAt(handles.Count - 1);
        Assert.Equal(NtStatus.STATUS_SUCCESS, QuotaTest.CreateEvent(hostile, out var again));
        handles.Add(again);
        Assert.Equal(NtStatus.STATUS_INSUFFICIENT_RESOURCES, QuotaTest.CreateEvent(hostile, out _));
    }

    [Gate.Support.RootFact("OBJ_PERMANENT needs the privilege root holds")]
    public unsafe void A_permanent_named_object_refused_its_handle_past_the_quota_leaves_no_name_behind()
    {
        using var kernel = QuotaTest.StartKernel("q-handles-permanent", "--max-handles", "1");
        using var gate = QuotaTest.Connect(kernel);
        Assert.Equal(NtStatus.STATUS_SUCCESS, QuotaTest.CreateEvent(gate, out var only));
        var baseline = KernelControl.QueryState(gate).Objects;
        var name = $@"\BaseNamedObjects\kb-permanent-{Environment.ProcessId}";
        nint created = 0;
        using (GateClient.Use(gate))
        {
            var attributes = new ObjectAttributes(name, ObjectAttributeFlags.OBJ_CASE_INSENSITIVE | ObjectAttributeFlags.OBJ_PERMANENT);
            Assert.Equal(NtStatus.STATUS_INSUFFICIENT_RESOURCES, Ntdll.NtCreateEvent(&created, AccessMask.EVENT_ALL_ACCESS, attributes, EventType.NotificationEvent, false));
        }
        Assert.Equal(0, created);
        Assert.Equal(baseline, KernelControl.QueryState(gate).Objects);
        Assert.Equal(NtStatus.STATUS_SUCCESS, QuotaTest.Close(gate, only));
        nint opened = 0;
        using (GateClient.Use(gate))
            Assert.Equal(NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, Ntdll.NtOpenEvent(&opened, AccessMask.SYNCHRONIZE, new ObjectAttributes(name)));
    }

    [Fact]
    public void A_process_that_dies_at_its_handle_quota_gives_every_handle_back()
    {
        using var kernel = QuotaTest.StartKernel("q-handles-rundown", "--max-handles", $"{Limit}");
        using var observer = QuotaTest.Connect(kernel);
        var baseline = KernelControl.QueryState(observer);
        var hostile = QuotaTest.Connect(kernel);
        try
        {
            while (QuotaTest.CreateEvent(hostile, out _) == NtStatus.STATUS_SUCCESS)
            {
            }
            Assert.Equal(baseline.Handles + Limit, KernelControl.QueryState(observer).Handles);
        }
        finally
        {
            hostile.Dispose();
        }
        var after = KernelCounts.WaitFor(observer, s => s.Handles == baseline.Handles && s.Objects == baseline.Objects && s.Clients == baseline.Clients,
            QuotaTest.Timeout);
        Assert.Equal((baseline.Handles, baseline.Objects, baseline.Clients), (after.Handles, after.Objects, after.Clients));
        Assert.Single(KernelControl.QueryQuotas(observer).Processes);
    }

    [Fact]
    public void A_child_process_refused_past_its_handle_quota_sees_ERROR_NO_SYSTEM_RESOURCES_and_its_rows_go_when_it_is_killed()
    {
        using var kernel = QuotaTest.StartKernel("q-handles-child", "--max-handles", "3");
        using var observer = QuotaTest.Connect(kernel);
        var baseline = KernelControl.QueryState(observer);
        var device = KbTest.Path(KbTest.NewTag());

        using (var refused = ChildProcess.StartDll("KernelBridge.TestClient.dll", null, kernel.Instance, "hold", device, "4"))
        {
            Assert.True(refused.WaitForExit(QuotaTest.Timeout), "the child did not finish");
            Assert.Contains($"error {(uint)Win32Error.ERROR_NO_SYSTEM_RESOURCES}", refused.Output, StringComparison.Ordinal);
        }

        using var holder = ChildProcess.StartDll("KernelBridge.TestClient.dll", null, kernel.Instance, "hold", device, "3");
        Assert.True(holder.WaitForLine("ready", QuotaTest.Timeout), $"the child did not get its handles:{Environment.NewLine}{holder.Output}");
        var row = Assert.Single(KernelControl.QueryQuotas(observer).RowsOf(holder.Id));
        Assert.Equal(3, row.Handles);
        holder.Kill();
        var quotas = QuotaTest.WaitForQuotas(observer, q => !q.RowsOf(holder.Id).Any());
        Assert.Empty(quotas.RowsOf(holder.Id));
        var after = KernelCounts.WaitFor(observer, s => s.Handles == baseline.Handles && s.Objects == baseline.Objects, QuotaTest.Timeout);
        Assert.Equal((baseline.Handles, baseline.Objects), (after.Handles, after.Objects));
    }
}
