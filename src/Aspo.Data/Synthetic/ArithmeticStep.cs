using System.Text;

namespace Aspo.Data.Synthetic;

/// <summary>One operation of a chain: "+", "-" or "*", and its operand.</summary>
public readonly record struct ArithmeticStep(char Operator, long Operand);
