using System.Text.Json.Nodes;
using DuckDB.NET.Data;

namespace Aspo.Data;

/// <summary>What reading a dataset found: the usable records, the columns, and every problem.</summary>
public sealed record DatasetReport(string File, IReadOnlyList<(string Name, string Type)> Columns, IReadOnlyList<PromptRecord> Records, IReadOnlyList<DatasetProblem> Problems);
