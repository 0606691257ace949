using System.Diagnostics;
using Aspo.Rewards;
using Aspo.Rewards.Code;

namespace Aspo.Bench;

/// <summary>
/// <c>tools/bench/run rewards</c>: per-call latency of every rule grader over the same 10,000 random strings plus the
/// adversarial ones of the fuzz tests (after one warm-up pass, so JIT is not counted), and the code sandbox's cost per
/// test case side by side with the same program run as a bare <c>python3</c> process (no namespaces, no limits).
/// </summary>
public static class RewardsBench
{
    public static int Run()
    {
        var corpus = Corpus();
        Console.WriteLine($"Rule graders, {corpus.Count:N0} responses (10,000 random + adversarial: 1 MB responses and ground truths, 500k-deep braces, 100k boxes), per call after warm-up:");
        Console.WriteLine();
        Console.WriteLine("| grader | median µs | p99 µs | max ms |");
        Console.WriteLine("| --- | ---: | ---: | ---: |");
        var registry = RewardRegistry.CreateDefault();
        foreach (var (name, grade) in new (string, Action<string, string>)[]
        {
            ("hendrycks (verl math_reward) + numeric", (r, t) => registry.Score("hendrycks_math", r, t)),
            ("math_dapo", (r, t) => registry.Score("math_dapo", r, t)),
            ("gsm8k strict", (r, t) => registry.Score("openai/gsm8k", r, t)),
            ("stdio judge (LiveCodeBench)", (r, t) => StdioJudge.Matches(r, t)),
        })
        {
            foreach (var (r, t) in corpus)
                grade(r, t); // warm-up
            var times = new double[corpus.Count];
            for (var i = 0; i < corpus.Count; i++)
            {
                var watch = Stopwatch.StartNew();
                grade(corpus[i].Response, corpus[i].Truth);
                times[i] = watch.Elapsed.TotalMilliseconds;
            }
            Array.Sort(times);
            Console.WriteLine(FormattableString.Invariant($"| {name} | {times[times.Length / 2] * 1000:F1} | {times[(int)(times.Length * 0.99)] * 1000:F1} | {times[^1]:F2} |"));
        }

        Console.WriteLine();
        var python = "/usr/bin/python3";
        const string Program = "import sys\nprint(sum(map(int, sys.stdin.read().split())))";
        var sandbox = new PythonSandbox(python);
        var limits = new SandboxLimits();
        var dir = Directory.CreateTempSubdirectory("aspo-bench-python-");
        var file = Path.Combine(dir.FullName, "main.py");
        File.WriteAllText(file, Program);
        const int Runs = 40;
        var sandboxed = new double[Runs];
        var bare = new double[Runs];
        for (var i = 0; i < Runs; i++)
        {
            var watch = Stopwatch.StartNew();
            var r = sandbox.Run(Program, "1 2 3\n", limits);
            sandboxed[i] = watch.Elapsed.TotalMilliseconds;
            if (r.Stdout.Trim() != "6")
                throw new InvalidOperationException($"sandbox run failed: {r}");
            watch.Restart();
            using var p = Process.Start(new ProcessStartInfo(python, ["-I", file]) { RedirectStandardInput = true, RedirectStandardOutput = true })!;
            p.StandardInput.Write("1 2 3\n");
            p.StandardInput.Close();
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            bare[i] = watch.Elapsed.TotalMilliseconds;
            if (output.Trim() != "6")
                throw new InvalidOperationException("bare python run failed");
        }
        dir.Delete(recursive: true);
        Array.Sort(sandboxed);
        Array.Sort(bare);
        Console.WriteLine($"Code reward, one stdin/stdout test case of a small program, {Runs} runs each, medians:");
        Console.WriteLine();
        Console.WriteLine("| run | median ms | ratio |");
        Console.WriteLine("| --- | ---: | ---: |");
        Console.WriteLine(FormattableString.Invariant($"| bare python3 process (reference, no isolation) | {bare[Runs / 2]:F1} | 1.00 |"));
        Console.WriteLine(FormattableString.Invariant($"| sandboxed (namespaces, tmpfs, uid, rlimits) | {sandboxed[Runs / 2]:F1} | {sandboxed[Runs / 2] / bare[Runs / 2]:F2} |"));
        return 0;
    }

    private static List<(string Response, string Truth)> Corpus()
    {
        var rng = new Random(17);
        string[] pieces = ["\\boxed", "\\boxed ", "{", "}", "\\frac", "\\sqrt", "\\text{ ", "=", "/", "$", "\\%", ".", "0.5", "1", "-", "\\left", "\\fbox", " ", "\n",
                           "\\\\", "x", "12,345", "Answer:", "####", "#### ", "```", "1e5"];
        var corpus = new List<(string, string)>
        {
            (new string('{', 100_000) + "\\boxed{" + new string('}', 100_000), "1"),
            ("\\boxed{" + new string('{', 500_000), "x"),
            (string.Concat(Enumerable.Repeat("\\boxed{1}", 100_000)), "1"),
            (new string('a', 1_000_000), "a"),
            ("Answer: " + new string('$', 1_000_000), new string('$', 1_000_000)),
            ("Answer:" + new string(' ', 1_000_000), string.Concat(Enumerable.Repeat("\\text{", 100_000))),
            ("#### " + new string('1', 1_000_000), "1"),
            (string.Concat(Enumerable.Repeat("1 ", 500_000)), string.Concat(Enumerable.Repeat("1 ", 500_000))),
        };
        for (var i = 0; i < 10_000; i++)
        {
            var s = string.Concat(Enumerable.Range(0, rng.Next(0, 30)).Select(_ => rng.Next(3) == 0 ? ((char)rng.Next(32, 0x3000)).ToString() : pieces[rng.Next(pieces.Length)]));
            corpus.Add((s, rng.Next(2) == 0 ? s : pieces[rng.Next(pieces.Length)]));
        }
        return corpus;
    }
}
