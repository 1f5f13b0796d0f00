using BenchmarkDotNet.Running;

namespace KernelBridge.Benchmarks;

/// <summary>dotnet run -c Release --project bench/KernelBridge.Benchmarks -- --filter '*Ring*' (BenchmarkDotNet's own options).</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
