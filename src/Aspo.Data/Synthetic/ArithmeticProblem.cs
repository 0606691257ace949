using System.Globalization;
using System.Text;

namespace Aspo.Data.Synthetic;

/// <summary>A chain problem: start with a number, apply the steps in order.</summary>
public sealed record ArithmeticProblem(ArithmeticLevel Level, long Start, IReadOnlyList<ArithmeticStep> Steps)
{
    public long Answer
    {
        get
        {
            var value = Start;
            foreach (var s in Steps)
                value = ArithmeticTasks.Apply(value, s);
            return value;
        }
    }

    /// <summary>Canonical text ("12+7*3-5"), what the train/held-out split hashes.</summary>
    public string Key
    {
        get
        {
            var b = new StringBuilder().Append(Start.ToString(CultureInfo.InvariantCulture));
            foreach (var s in Steps)
                b.Append(s.Operator).Append(s.Operand.ToString(CultureInfo.InvariantCulture));
            return b.ToString();
        }
    }

    /// <summary>The user prompt: a short word problem.</summary>
    public string Question
    {
        get
        {
            var b = new StringBuilder("Start with ").Append(Start.ToString(CultureInfo.InvariantCulture));
            foreach (var s in Steps)
            {
                b.Append(s.Operator switch { '+' => ", add ", '-' => ", subtract ", _ => ", multiply by " })
                 .Append(s.Operand.ToString(CultureInfo.InvariantCulture));
            }
            return b.Append(". What is the result? Put the final answer in \\boxed{}.").ToString();
        }
    }

    /// <summary>The worked solution: one line per step, then the boxed answer (the SFT target).</summary>
    public string Solution
    {
        get
        {
            var b = new StringBuilder();
            var value = Start;
            foreach (var s in Steps)
            {
                var next = ArithmeticTasks.Apply(value, s);
                b.Append(value.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(s.Operator).Append(' ')
                 .Append(s.Operand.ToString(CultureInfo.InvariantCulture)).Append(" = ").Append(next.ToString(CultureInfo.InvariantCulture)).Append('\n');
                value = next;
            }
            return b.Append(AnswerOnlySolution).ToString();
        }
    }

    /// <summary>The answer without the work: what a terse solution in an SFT mix looks like (the model has to do
    /// every step in one go, which a small model mostly gets wrong beyond one step).</summary>
    public string AnswerOnlySolution => "The answer is \\boxed{" + Answer.ToString(CultureInfo.InvariantCulture) + "}.";
}
