using System.Globalization;
using System.Text;

namespace Aspo.Rewards.Code;

/// <summary>What one sandboxed run produced. Stdout is the bytes decoded as UTF-8; stderr keeps only its first 8 KiB.</summary>
public sealed record SandboxResult(SandboxStatus Status, int ExitCode, string Stdout, string StderrHead, double WallSeconds);
