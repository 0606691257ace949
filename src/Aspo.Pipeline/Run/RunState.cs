namespace Aspo.Pipeline;

/// <summary>The last completed (iteration, stage) of a run, as <c>state.json</c> records it.</summary>
public sealed record RunState(int Iteration, Stage Stage) : IComparable<RunState>
{
    public static readonly RunState Start = new(0, Stage.Init);

    /// <summary>The stage the loop runs after this one: export → rollout → learn → eval, then the next iteration's export.</summary>
    public RunState Next() => Stage switch
    {
        Stage.Init => new RunState(1, Stage.Export),
        Stage.Eval => new RunState(Iteration + 1, Stage.Export),
        _ => this with { Stage = Stage + 1 },
    };

    public int CompareTo(RunState? other) => other is null ? 1 : (Iteration, (int)Stage).CompareTo((other.Iteration, (int)other.Stage));

    /// <summary>The stage's name in state.json and on the command line: init, export, rollout, learn, eval.</summary>
    public static string Name(Stage stage) => stage.ToString().ToLowerInvariant();

    public static bool TryParse(string name, out Stage stage)
    {
        foreach (var s in Enum.GetValues<Stage>())
        {
            if (Name(s) == name)
            {
                stage = s;
                return true;
            }
        }
        stage = default;
        return false;
    }

    public override string ToString() => $"iteration {Iteration}, stage {Name(Stage)}";
}
