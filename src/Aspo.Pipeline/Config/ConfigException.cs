using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Aspo.Pipeline.Config;

/// <summary>A config file is wrong: the message names the file, line, key and what was expected.</summary>
public sealed class ConfigException(string message) : Exception(message);
