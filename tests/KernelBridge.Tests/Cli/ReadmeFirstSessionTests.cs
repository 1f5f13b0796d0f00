using System.Text;
using KernelBridge.Platform;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace KernelBridge.Tests.Cli;

/// <summary>
/// Regression: the README's first session raced with itself (the tour's kernel lingered, so
/// `kbridge kernel --persistent &amp;` exited 3 and the later steps each started short-lived
/// kernels). This runs the session as README.md writes it — each `kbridge` line in order, the
/// `&amp;` one in the background, on a private instance, every step bounded — against the built
/// kbridge.dll, and checks each step's exit code: 0, or the one the README's comment announces
/// ("exits 1").
/// </summary>
public sealed class ReadmeFirstSessionTests(ITestOutputHelper output)
{
    /// <summary>One line of the session: its words (as the shell would split them), whether it ends in &amp;, the exit code it promises.</summary>
    private sealed record Step(string Line, string[] Words, bool Background, int ExpectedExit);

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "KernelBridge.sln"))) return directory.FullName;
        throw new InvalidOperationException($"no KernelBridge.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>The shell lines of README.md's "A first session" block, after the alias.</summary>
    private static List<Step> Session()
    {
        var readme = File.ReadAllLines(Path.Combine(RepositoryRoot(), "README.md"));
        var heading = Array.IndexOf(readme, "## A first session");
        Assert.True(heading >= 0, "README.md has no '## A first session'");
        var start = Array.FindIndex(readme, heading, l => l.StartsWith("```sh", StringComparison.Ordinal)) + 1;
        var end = Array.FindIndex(readme, start, l => l.StartsWith("```", StringComparison.Ordinal));
        var steps = new List<Step>();
        foreach (var line in readme[start..end])
        {
            var (words, comment) = ShellWords(line);
            if (words.Count == 0 || words[0] == "alias") continue;
            var background = words[^1] == "&";
            if (background) words.RemoveAt(words.Count - 1);
            steps.Add(new Step(line.Trim(), [.. words], background, comment.Contains("exits 1", StringComparison.Ordinal) ? 1 : 0));
        }
        return steps;
    }

    /// <summary>Splits a line as sh would for these commands: single and double quotes, and a # comment after a blank.</summary>
    private static (List<string> Words, string Comment) ShellWords(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c is '\'' or '"')
            {
                var close = line.IndexOf(c, i + 1);
                word.Append(line, i + 1, close - i - 1);
                i = close;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
            else if (c == '#' && !inWord)
            {
                return (words, line[(i + 1)..]);
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }
        if (inWord) words.Add(word.ToString());
        return (words, "");
    }

    [Fact]
    public void The_first_session_runs_as_written_with_each_step_exiting_as_the_readme_says()
    {
        var steps = Session();
        Assert.Contains(steps, s => s.Background && s.Words is ["kbridge", "kernel", "--persistent"]);
        Assert.Contains(steps, s => s.ExpectedExit == 1 && s.Words.Contains("ioctl"));

        var instance = KernelProcess.NewInstanceName("readme");
        var directory = InstanceDirectory.Open(instance, create: true);
        var environment = new Dictionary<string, string?> { [InstanceDirectory.InstanceVariable] = instance, ["KBRIDGE_IDLE_TIMEOUT"] = null };
        ChildProcess? background = null;
        try
        {
            foreach (var step in steps)
            {
                output.WriteLine($"$ {step.Line}");
                if (step.Words[0] == "dotnet")
                {
                    RunSample(step, environment);
                    continue;
                }
                Assert.Equal("kbridge", step.Words[0]);
                if (step.Background)
                {
                    background = ChildProcess.StartDll("kbridge.dll", new Dictionary<string, string> { [InstanceDirectory.InstanceVariable] = instance }, step.Words[1..]);
                    continue;
                }
                var result = Kbridge.RunWith(null, environment, step.Words[1..]);
                output.WriteLine(result.ToString());
                Assert.True(result.ExitCode == step.ExpectedExit, $"`{step.Line}` exited {result.ExitCode}, the README says {step.ExpectedExit}:{Environment.NewLine}{result}");
                // Every step after the background kernel talks to it, not to a kernel of its own.
                if (background is not null && step.Words is ["kbridge", "kernel", "status"])
                {
                    Assert.Contains($"pid {background.Id}", result.Stdout, StringComparison.Ordinal);
                    Assert.Contains("persistent", result.Stdout, StringComparison.Ordinal);
                }
                if (step.Words is ["kbridge", "kernel", "stop"] && background is not null)
                {
                    Assert.True(background.WaitForExit(TimeSpan.FromSeconds(15)), "the background kernel did not stop");
                    Assert.True(background.Process.ExitCode == 0, $"the background kernel exited {background.Process.ExitCode}:{Environment.NewLine}{background.Output}");
                }
            }
            Assert.NotNull(background);
            Assert.True(background.Process.HasExited, "the session's kernel --persistent still runs after the session");
        }
        finally
        {
            if (background is not null) output.WriteLine($"--- kbridge kernel --persistent ---{Environment.NewLine}{background.Output}");
            background?.Dispose();
            Posix.StopKernel(instance, 0);
            Posix.DeleteInstanceDirectory(directory.Path);
        }
    }

    /// <summary>`dotnet run --project samples/X -c C -- args`: the sample as built beside this test run (same configuration), if it is.</summary>
    private void RunSample(Step step, Dictionary<string, string?> environment)
    {
        var project = step.Words[Array.IndexOf(step.Words, "--project") + 1];
        var arguments = step.Words[(Array.IndexOf(step.Words, "--") + 1)..];
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var dll = Path.Combine(RepositoryRoot(), project, "bin", configuration, "net10.0", Path.GetFileName(project) + ".dll");
        if (!File.Exists(dll))
        {
            output.WriteLine($"(not run: {dll} is not built)");
            return;
        }
        var result = Kbridge.RunDll(dll, null, environment, arguments);
        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == step.ExpectedExit, $"`{step.Line}` exited {result.ExitCode}:{Environment.NewLine}{result}");
    }
}
