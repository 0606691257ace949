namespace Aspo.Native.Blas;

/// <summary>A native GEMM returned an error status.</summary>
public sealed class GemmException(string message) : AspoNativeException(message);
