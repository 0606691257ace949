using System.Text.Json.Nodes;
using DuckDB.NET.Data;

namespace Aspo.Data;

/// <summary>One training prompt: its messages, the answer the reward checks, and where it came from.</summary>
public sealed record PromptRecord(long Row, string DataSource, IReadOnlyList<ChatMessage> Prompt, string GroundTruth, string Ability, string ExtraInfoJson);
