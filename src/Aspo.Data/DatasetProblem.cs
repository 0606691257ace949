using System.Text.Json.Nodes;
using DuckDB.NET.Data;

namespace Aspo.Data;

/// <summary>A problem found while reading a dataset: the row (or -1 for the file) and column, and what is wrong.</summary>
public sealed record DatasetProblem(long Row, string Column, string Message)
{
    public override string ToString() => Row < 0 ? $"column {Column}: {Message}" : $"row {Row}, column {Column}: {Message}";
}
