using System.Text;
using System.Text.Json.Nodes;
using Aspo.Rewards;

namespace Aspo.Pipeline;

/// <summary>One evaluated suite: its name, how it was sampled and the summaries per data_source (+ "all").</summary>
public sealed record SuiteResult(string Suite, int Prompts, EvalSettings Settings, IReadOnlyList<EvalSummary> Summaries);
