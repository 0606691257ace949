using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspo.Native.Files;
using Aspo.Pipeline.Config;

namespace Aspo.Pipeline;

/// <summary>
/// What a run's inputs were, by content rather than by path (inputs.json): the training data's sha256. The prompt
/// sampler indexes into the training data, so a run resumed on other data — even under the same path — would draw other
/// prompts; a moved or copied run directory with the same data resumes.
/// </summary>
public sealed record RunInputs(string TrainSha256)
{
    public static RunInputs Of(PipelineConfig config)
    {
        using var stream = File.OpenRead(config.Resolve(config.Data.Train));
        return new RunInputs(Convert.ToHexStringLower(SHA256.HashData(stream)));
    }

    public void Write(string path) => AtomicFile.WriteAllText(path, new JsonObject { ["data.train.sha256"] = TrainSha256 }.ToJsonString());

    /// <summary>The recorded inputs, or null for a run directory written before they were recorded.</summary>
    public static RunInputs? Read(string path)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            return new RunInputs(JsonNode.Parse(File.ReadAllText(path))!["data.train.sha256"]!.GetValue<string>());
        }
        catch (Exception e) when (e is JsonException or NullReferenceException or InvalidOperationException)
        {
            throw new ConfigException($"{path}: not a run's inputs record ({e.Message}); expected {{\"data.train.sha256\": \"…\"}}");
        }
    }
}
