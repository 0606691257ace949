using System.Runtime.InteropServices;

namespace Aspo.Native.Ort;

/// <summary>An owned ONNX Runtime object, released with the <c>Release*</c> slot it was made for.</summary>
internal sealed class OrtHandle : SafeHandle
{
    private readonly int _releaseSlot;

    public OrtHandle(nint handle, int releaseSlot) : base(0, ownsHandle: true)
    {
        _releaseSlot = releaseSlot;
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == 0;

    /// <summary>The raw pointer; throws if the owner was disposed.</summary>
    public nint Pointer => IsClosed ? throw new ObjectDisposedException("ONNX Runtime handle") : handle;

    protected override bool ReleaseHandle()
    {
        OrtApi.Release(_releaseSlot, handle);
        return true;
    }
}
