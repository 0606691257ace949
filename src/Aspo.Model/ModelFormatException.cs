namespace Aspo.Model;

/// <summary>A checkpoint or config that cannot be used: the message names the file, the field or tensor, and what was expected.</summary>
public sealed class ModelFormatException(string message) : Exception(message);
