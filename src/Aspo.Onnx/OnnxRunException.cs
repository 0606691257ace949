using Aspo.Native;

namespace Aspo.Onnx;

/// <summary>ONNX Runtime failed while running a loaded model.</summary>
public sealed class OnnxRunException(string message, Exception inner) : AspoNativeException(message, inner);
