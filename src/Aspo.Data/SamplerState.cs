using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aspo.Data;

/// <summary>Where sampling is in the dataset: the epoch and the position inside that epoch's shuffled order.</summary>
public sealed record SamplerState(int Epoch, int Position)
{
    public string ToJson() => JsonSerializer.Serialize(new { epoch = Epoch, position = Position });

    public static SamplerState FromJson(string json)
    {
        var o = JsonNode.Parse(json) as JsonObject ?? throw new DataFormatException("sampler state: expected a JSON object");
        return new SamplerState(o["epoch"]?.GetValue<int>() ?? throw new DataFormatException("sampler state: field epoch missing"),
            o["position"]?.GetValue<int>() ?? throw new DataFormatException("sampler state: field position missing"));
    }
}
