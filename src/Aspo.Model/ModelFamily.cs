using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aspo.Model;

/// <summary>The decoder families this learner implements (Hugging Face <c>model_type</c>).</summary>
public enum ModelFamily { Llama, Qwen2, Qwen3 }
