using Spectre.Console;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// Shows which measurement is running: a Spectre progress bar when stdout is a terminal and the
/// output is not JSON; nothing otherwise (a script or a pipe gets only the result).
/// </summary>
internal abstract class BenchProgress
{
    /// <summary>Starts the next step (ending the one before).</summary>
    public abstract void Step(string description);

    /// <summary>Runs <paramref name="body"/> with a progress display of <paramref name="steps"/> steps, if <paramref name="show"/>.</summary>
    public static T Run<T>(bool show, int steps, Func<BenchProgress, T> body)
    {
        if (!show || Console.IsOutputRedirected) return body(Silent.Instance);
        return AnsiConsole.Progress()
            .AutoClear(true)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var bar = new Bar(context.AddTask("starting", maxValue: steps));
                var result = body(bar);
                bar.Finish();
                return result;
            });
    }

    private sealed class Silent : BenchProgress
    {
        public static readonly Silent Instance = new();

        public override void Step(string description)
        {
        }
    }

    private sealed class Bar(ProgressTask task) : BenchProgress
    {
        private bool _started;

        public override void Step(string description)
        {
            if (_started) task.Increment(1);
            _started = true;
            task.Description = Markup.Escape(description);
        }

        public void Finish() => task.Value = task.MaxValue;
    }
}
