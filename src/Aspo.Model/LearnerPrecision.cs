namespace Aspo.Model;

/// <summary>The number format of the learner's matrix multiplications (master weights, optimizer state, log-softmax and losses stay fp32).</summary>
public enum LearnerPrecision { Fp32, Bf16 }
