namespace Aspo.Rewards.Code;

/// <summary>One stdin/stdout test case of a code task.</summary>
public readonly record struct StdioTest(string Input, string Output);
