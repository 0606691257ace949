using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aspo.Data;

/// <summary>One chat message: role (system, user, assistant, tool) and text.</summary>
public sealed record ChatMessage(string Role, string Content);
