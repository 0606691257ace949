using Aspo.Data;
using Aspo.Pipeline.Config;

namespace Aspo.Pipeline;

/// <summary>
/// One dataset of a suite: the file (resolved against the suite's folder), how to read it, an optional instruction
/// appended to each prompt's last user message, and where to get the file.
/// </summary>
public sealed record SuiteDataset(string File, DatasetMapping Mapping, int Limit, string? Instruction, string? Download);
