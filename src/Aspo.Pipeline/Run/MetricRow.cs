using System.Text.Json;
using System.Text.Json.Nodes;
using Aspo.Pipeline.Config;

namespace Aspo.Pipeline;

/// <summary>One row of a run's metrics.jsonl; <paramref name="Suite"/> is set on eval rows.</summary>
public sealed record MetricRow(string Kind, int Iteration, string? Suite, JsonObject Data);
