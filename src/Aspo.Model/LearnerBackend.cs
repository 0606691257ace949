namespace Aspo.Model;

/// <summary>Which implementation trains the policy.</summary>
public enum LearnerBackend
{
    /// <summary>This project's decoder (<see cref="Decoder"/>): hand-written backward over one fp32 slab, oneDNN GEMMs.</summary>
    Native,
    /// <summary>TorchSharp (LibTorch): autograd, CPU or CUDA.</summary>
    Torch,
}
