using Aspo.Data.Shards;
using Aspo.Onnx;
using Aspo.Rewards;

namespace Aspo.Pipeline;

/// <summary>Every sampled row (graded) and the summaries per data_source and overall.</summary>
public sealed record EvalResult(IReadOnlyList<RolloutRow> Rows, IReadOnlyList<EvalSummary> Summaries);
