using Aspo.Data;
using Aspo.Data.Tokenization;
using Aspo.Model;

namespace Aspo.Pipeline;

/// <summary>One SFT example: the rendered prompt's ids and the target response's ids (ending with the EOS token).</summary>
public readonly record struct SftExample(int[] Prompt, int[] Response);
