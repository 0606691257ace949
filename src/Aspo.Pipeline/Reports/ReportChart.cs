using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspo.Pipeline.Config;

namespace Aspo.Pipeline;

/// <summary>One chart of the report: a title and the metric it plots per iteration (or a matcher for eval names).</summary>
public sealed record ReportChart(string Title, string Kind, Func<string, bool> Metric, string Label);
