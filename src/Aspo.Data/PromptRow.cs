using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aspo.Data;

/// <summary>One row of a verl-layout prompt dataset to write; extra_info is any JSON object.</summary>
public sealed record PromptRow(string DataSource, IReadOnlyList<ChatMessage> Prompt, string Ability, string GroundTruth, JsonObject ExtraInfo);
