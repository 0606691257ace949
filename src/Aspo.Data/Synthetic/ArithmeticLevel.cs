using System.Text;

namespace Aspo.Data.Synthetic;

/// <summary>A difficulty level: operand digits, number of operations, and whether multiplication appears.</summary>
public sealed record ArithmeticLevel(string Name, int MinDigits, int MaxDigits, int Steps, bool Multiply)
{
    /// <summary>The verl data_source of this level's rows; the reward registry grades every "arith/…" source exactly.</summary>
    public string DataSource => ArithmeticTasks.DataSourcePrefix + Name;
}
