using System.Globalization;
using System.Text;

namespace Aspo.Rewards.Code;

/// <summary>The sandbox cannot be set up on this machine (missing tool, no namespaces): an infrastructure error, never a score.</summary>
public sealed class SandboxUnavailableException(string message) : Exception(message);
