namespace Aspo.Data;

/// <summary>A tokenizer, dataset or shard that cannot be used: the message names the file, the field/column/row and what was expected.</summary>
public sealed class DataFormatException(string message) : Exception(message);
