using System.Text;

namespace Aspo.Data.Synthetic;

/// <summary>
/// The synthetic verifiable task family of the built-in default: multi-step arithmetic word problems ("Start with 12,
/// add 7, multiply by 3, subtract 5.") with step-by-step solutions ending in \boxed{answer}. Deterministic for a seed
/// (SplitMix64). Train and held-out are disjoint by construction: a problem belongs to held-out exactly when the FNV-1a
/// hash of its canonical text is 0 mod 5, whatever seed or level produced it. Subtraction never goes below zero;
/// multiplication is by one digit (2–9), so answers stay small enough for a tiny model to compute step by step.
/// </summary>
public static class ArithmeticTasks
{
    public const string DataSourcePrefix = "arith/";

    /// <summary>Levels from easy to hard; L1–L3 are what the warm start is trained on, L4–L5 are harder than any of it.</summary>
    public static readonly IReadOnlyList<ArithmeticLevel> Levels =
    [
        new("L1", 1, 2, 1, Multiply: false),
        new("L2", 1, 2, 2, Multiply: false),
        new("L3", 2, 2, 2, Multiply: true),
        new("L4", 2, 3, 3, Multiply: true),
        new("L5", 3, 3, 4, Multiply: true),
    ];

    public static ArithmeticLevel Level(string name) =>
        Levels.FirstOrDefault(l => l.Name == name)
        ?? throw new ArgumentException($"unknown arithmetic level '{name}'; levels: {string.Join(", ", Levels.Select(l => l.Name))}");

    internal static long Apply(long value, ArithmeticStep step) => step.Operator switch
    {
        '+' => value + step.Operand,
        '-' => value - step.Operand,
        '*' => value * step.Operand,
        _ => throw new ArgumentException($"unknown operator '{step.Operator}'"),
    };

    public static ArithmeticSplit SplitOf(ArithmeticProblem problem)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in problem.Key)
        {
            hash ^= c;
            hash *= 1099511628211UL;
        }
        return hash % 5 == 0 ? ArithmeticSplit.HeldOut : ArithmeticSplit.Train;
    }

    /// <summary>
    /// <paramref name="count"/> distinct problems of one level and split, drawn from <paramref name="seed"/>. Fails when
    /// the level has too few distinct problems of that split (after 1000 draws per wanted problem).
    /// </summary>
    public static IReadOnlyList<ArithmeticProblem> Generate(ArithmeticLevel level, ArithmeticSplit split, int count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var state = seed ^ (0xA5A5A5A5UL * (ulong)(Levels.ToList().FindIndex(l => l.Name == level.Name) + 1));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var problems = new List<ArithmeticProblem>(count);
        for (long draws = 0; problems.Count < count; draws++)
        {
            if (draws > 1000L * Math.Max(count, 1))
                throw new ArgumentException($"level {level.Name} has fewer than {count} distinct {split} problems");
            var p = Draw(level, ref state);
            if (SplitOf(p) == split && seen.Add(p.Key))
                problems.Add(p);
        }
        return problems;
    }

    private static ArithmeticProblem Draw(ArithmeticLevel level, ref ulong state)
    {
        var value = Number(level, ref state);
        var start = value;
        var steps = new ArithmeticStep[level.Steps];
        for (var i = 0; i < steps.Length; i++)
        {
            var kinds = level.Multiply ? 3 : 2;
            var op = SplitMix64.NextInRange(ref state, 0, kinds - 1) switch { 0 => '+', 1 => '-', _ => '*' };
            long operand;
            if (op == '*')
                operand = SplitMix64.NextInRange(ref state, 2, 9);
            else
            {
                operand = Number(level, ref state);
                if (op == '-' && operand > value)
                    op = '+'; // keep every intermediate result ≥ 0
            }
            steps[i] = new ArithmeticStep(op, operand);
            value = Apply(value, steps[i]);
        }
        return new ArithmeticProblem(level, start, steps);
    }

    private static long Number(ArithmeticLevel level, ref ulong state)
    {
        var digits = (int)SplitMix64.NextInRange(ref state, level.MinDigits, level.MaxDigits);
        var low = digits == 1 ? 1 : (long)Math.Pow(10, digits - 1);
        return SplitMix64.NextInRange(ref state, low, (long)Math.Pow(10, digits) - 1);
    }
}
