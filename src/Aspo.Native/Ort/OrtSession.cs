using System.Runtime.InteropServices;

namespace Aspo.Native.Ort;

/// <summary>An <c>OrtSession</c>: a loaded model, its input/output signatures, and <see cref="Run"/>.</summary>
public sealed unsafe class OrtSession : IDisposable
{
    private readonly OrtHandle _handle;
    // NUL-terminated UTF-8 copies of the input and output names, made once so Run does not marshal strings
    private readonly Dictionary<string, nint> _inputNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, nint> _outputNames = new(StringComparer.Ordinal);

    private OrtSession(nint session, string source)
    {
        _handle = new OrtHandle(session, OrtApi.ReleaseSessionSlot);
        Source = source;
        try
        {
            Inputs = ReadSignature(session, isInput: true);
            Outputs = ReadSignature(session, isInput: false);
            foreach (var info in Inputs)
                _inputNames.TryAdd(info.Name, (nint)Utf8.AllocNative(info.Name));
            foreach (var info in Outputs)
                _outputNames.TryAdd(info.Name, (nint)Utf8.AllocNative(info.Name));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The model file, or a description of the in-memory model, for messages.</summary>
    public string Source { get; }

    public IReadOnlyList<OrtTensorInfo> Inputs { get; }
    public IReadOnlyList<OrtTensorInfo> Outputs { get; }

    /// <summary>Loads an ONNX model file (external data files are found next to it).</summary>
    /// <exception cref="OrtException">ONNX Runtime rejects the file; the message names the file and carries ONNX Runtime's text</exception>
    public static OrtSession FromFile(OrtEnvironment env, string path, OrtSessionOptions? options = null)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"ONNX model file {full} does not exist", full);
        return Create(options, $"loading ONNX model {full}", full, (opts, session) =>
        {
            fixed (byte* p = Utf8.NullTerminated(full))
                return OrtApi.CreateSession(env.Pointer, p, opts, session);
        });
    }

    /// <summary>Loads an ONNX model from serialized bytes (a <c>ModelProto</c>).</summary>
    public static OrtSession FromBytes(OrtEnvironment env, ReadOnlySpan<byte> model, OrtSessionOptions? options = null, string description = "in-memory ONNX model")
    {
        var source = $"{description} ({model.Length} bytes)";
        fixed (byte* m = model)
        {
            var modelPtr = m; // fixed locals cannot be captured
            var length = (nuint)model.Length;
            return Create(options, $"loading {source}", source, (opts, session) =>
                OrtApi.CreateSessionFromArray(env.Pointer, modelPtr, length, opts, session));
        }
    }

    private delegate nint CreateCall(nint options, nint* session);

    private static OrtSession Create(OrtSessionOptions? options, string context, string source, CreateCall create)
    {
        OrtSessionOptions? owned = options is null ? new OrtSessionOptions() : null;
        try
        {
            nint session;
            OrtApi.Check(create((options ?? owned!).Pointer, &session), context);
            return new OrtSession(session, source);
        }
        finally
        {
            owned?.Dispose();
        }
    }

    /// <summary>
    /// Runs the model. <paramref name="outputs"/>[i] may hold a pre-made tensor of the exact output shape and type
    /// (ONNX Runtime writes into it) or be null (ONNX Runtime allocates one, returned there; the caller disposes it).
    /// </summary>
    /// <exception cref="ArgumentException">a name is not an input/output of the model, or the spans' lengths differ</exception>
    /// <exception cref="OrtException">ONNX Runtime rejects the inputs or fails while running</exception>
    public void Run(ReadOnlySpan<string> inputNames, ReadOnlySpan<OrtValue> inputs, ReadOnlySpan<string> outputNames, Span<OrtValue?> outputs)
    {
        if (inputNames.Length != inputs.Length)
            throw new ArgumentException($"{inputNames.Length} input names but {inputs.Length} input values", nameof(inputs));
        if (outputNames.Length != outputs.Length)
            throw new ArgumentException($"{outputNames.Length} output names but {outputs.Length} output slots", nameof(outputs));

        var inNames = stackalloc byte*[inputNames.Length];
        var inValues = stackalloc nint[inputNames.Length];
        var outNames = stackalloc byte*[outputNames.Length];
        var outValues = stackalloc nint[outputNames.Length];
        for (var i = 0; i < inputNames.Length; i++)
        {
            inNames[i] = NativeName(inputNames[i], _inputNames, Inputs, "input");
            inValues[i] = inputs[i].Pointer;
        }
        for (var i = 0; i < outputNames.Length; i++)
        {
            outNames[i] = NativeName(outputNames[i], _outputNames, Outputs, "output");
            outValues[i] = outputs[i]?.Pointer ?? 0;
        }

        OrtApi.Check(OrtApi.Run(_handle.Pointer, 0, inNames, inValues, (nuint)inputNames.Length, outNames, (nuint)outputNames.Length, outValues),
            $"running {Source}");

        for (var i = 0; i < outputNames.Length; i++)
            outputs[i] ??= OrtValue.FromOwned(outValues[i]);
    }

    /// <summary>Runs the model and returns the named outputs, allocated by ONNX Runtime (the caller disposes them).</summary>
    public OrtValue[] Run(IReadOnlyList<KeyValuePair<string, OrtValue>> inputs, params string[] outputNames)
    {
        var names = inputs.Select(kv => kv.Key).ToArray();
        var values = inputs.Select(kv => kv.Value).ToArray();
        var outputs = new OrtValue?[outputNames.Length];
        Run(names, values, outputNames, outputs);
        return outputs.Select(o => o!).ToArray();
    }

    private byte* NativeName(string name, Dictionary<string, nint> names, IReadOnlyList<OrtTensorInfo> declared, string kind)
    {
        if (names.TryGetValue(name, out var p))
            return (byte*)p;
        throw new ArgumentException(
            $"{Source} has no {kind} named '{name}'; its {kind}s are: {string.Join(", ", declared.Select(d => d.Name))}");
    }

    private static IReadOnlyList<OrtTensorInfo> ReadSignature(nint session, bool isInput)
    {
        var kind = isInput ? "input" : "output";
        nuint count;
        OrtApi.Check(isInput ? OrtApi.SessionGetInputCount(session, &count) : OrtApi.SessionGetOutputCount(session, &count), $"counting {kind}s");
        var allocator = OrtApi.DefaultAllocator;
        var result = new OrtTensorInfo[(int)count];
        for (nuint i = 0; i < count; i++)
        {
            byte* namePtr;
            OrtApi.Check(isInput ? OrtApi.SessionGetInputName(session, i, allocator, &namePtr) : OrtApi.SessionGetOutputName(session, i, allocator, &namePtr),
                $"reading {kind} name {i}");
            var name = Utf8.Read(namePtr);
            OrtApi.Check(OrtApi.AllocatorFree(allocator, namePtr));

            nint typeInfo;
            OrtApi.Check(isInput ? OrtApi.SessionGetInputTypeInfo(session, i, &typeInfo) : OrtApi.SessionGetOutputTypeInfo(session, i, &typeInfo),
                $"reading the type of {kind} {name}");
            try
            {
                nint tensorInfo;
                OrtApi.Check(OrtApi.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo), $"reading the type of {kind} {name}");
                // non-tensor values (sequences, maps) have no tensor info; the pipeline never uses them
                result[(int)i] = tensorInfo == 0
                    ? new OrtTensorInfo(name, OrtTensorElementType.Undefined, [], [])
                    : OrtTensorInfo.Read(tensorInfo, name); // tensorInfo belongs to typeInfo
            }
            finally
            {
                OrtApi.Release(OrtApi.ReleaseTypeInfoSlot, typeInfo);
            }
        }
        return result;
    }

    public void Dispose()
    {
        _handle.Dispose();
        foreach (var p in _inputNames.Values.Concat(_outputNames.Values))
            NativeMemory.Free((void*)p);
        _inputNames.Clear();
        _outputNames.Clear();
    }
}
