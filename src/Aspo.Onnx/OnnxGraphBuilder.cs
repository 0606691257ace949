using System.Runtime.InteropServices;
using Aspo.Onnx.Proto;
using Google.Protobuf;

namespace Aspo.Onnx;

/// <summary>
/// Builds an ONNX <see cref="ModelProto"/> node by node: graph inputs and outputs with symbolic or fixed
/// dimensions, fp32/int64 initializers stored as raw little-endian bytes, and nodes with typed attributes.
/// Defaults match what ONNX Runtime GenAI's builder writes: IR version 10, ai.onnx opset 21.
/// </summary>
public sealed class OnnxGraphBuilder
{
    public const long DefaultIrVersion = 10;
    public const long DefaultOpset = 21;

    private readonly GraphProto _graph;
    private Stream? _externalData;
    private string _externalLocation = "";
    private long _externalThreshold;
    private readonly Dictionary<string, long> _opsets = new(StringComparer.Ordinal) { [""] = DefaultOpset };
    private int _nodeCount;

    public OnnxGraphBuilder(string graphName = "main_graph") => _graph = new GraphProto { Name = graphName };

    /// <summary>
    /// From now on, initializers of at least <paramref name="thresholdBytes"/> are written to <paramref name="data"/>
    /// (the external data file named <paramref name="location"/>, relative to the model file) instead of the protobuf,
    /// so models above protobuf's 2 GB limit work. Large tensors start on 4 KB boundaries (memory-mappable).
    /// </summary>
    public OnnxGraphBuilder UseExternalData(Stream data, string location, long thresholdBytes = 1024)
    {
        _externalData = data;
        _externalLocation = location;
        _externalThreshold = thresholdBytes;
        return this;
    }

    /// <summary>Sets the opset version of <paramref name="domain"/> ("" is ai.onnx, "com.microsoft" the contrib ops).</summary>
    public OnnxGraphBuilder Opset(string domain, long version)
    {
        _opsets[domain] = version;
        return this;
    }

    /// <summary>A graph input. Each dimension is a number or a symbolic name such as "batch_size".</summary>
    public OnnxGraphBuilder Input(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        _graph.Input.Add(ValueInfo(name, type, dims));
        return this;
    }

    /// <summary>A graph output. Each dimension is a number or a symbolic name.</summary>
    public OnnxGraphBuilder Output(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        _graph.Output.Add(ValueInfo(name, type, dims));
        return this;
    }

    /// <summary>An fp32 initializer (a constant weight) of shape <paramref name="dims"/>.</summary>
    public OnnxGraphBuilder Initializer(string name, ReadOnlySpan<float> values, params long[] dims) =>
        AddInitializer(name, TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(values), values.Length, dims);

    /// <summary>A uint8 initializer of shape <paramref name="dims"/> (packed quantized weights).</summary>
    public OnnxGraphBuilder Initializer(string name, ReadOnlySpan<byte> values, params long[] dims) =>
        AddInitializer(name, TensorProto.Types.DataType.Uint8, values, values.Length, dims);

    /// <summary>An fp64 initializer of shape <paramref name="dims"/>.</summary>
    public OnnxGraphBuilder Initializer(string name, ReadOnlySpan<double> values, params long[] dims) =>
        AddInitializer(name, TensorProto.Types.DataType.Double, MemoryMarshal.AsBytes(values), values.Length, dims);

    /// <summary>An int64 initializer of shape <paramref name="dims"/>.</summary>
    public OnnxGraphBuilder Initializer(string name, ReadOnlySpan<long> values, params long[] dims) =>
        AddInitializer(name, TensorProto.Types.DataType.Int64, MemoryMarshal.AsBytes(values), values.Length, dims);

    /// <summary>A node; attribute values may be long, float, string, long[] or float[].</summary>
    public OnnxGraphBuilder Node(string opType, string[] inputs, string[] outputs, string domain = "",
        IReadOnlyDictionary<string, object>? attributes = null, string? name = null)
    {
        var node = new NodeProto { OpType = opType, Name = name ?? $"/{opType}_{_nodeCount}" };
        _nodeCount++;
        if (domain.Length > 0)
            node.Domain = domain;
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach (var (key, value) in attributes ?? new Dictionary<string, object>())
            node.Attribute.Add(Attribute(key, value));
        _graph.Node.Add(node);
        return this;
    }

    /// <summary>The finished model.</summary>
    public ModelProto Build(long irVersion = DefaultIrVersion, string producer = "aspo")
    {
        var model = new ModelProto { IrVersion = irVersion, ProducerName = producer, Graph = _graph.Clone() };
        foreach (var (domain, version) in _opsets)
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        return model;
    }

    /// <summary>The finished model, serialized.</summary>
    public byte[] ToBytes(long irVersion = DefaultIrVersion) => Build(irVersion).ToByteArray();

    private OnnxGraphBuilder AddInitializer(string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> raw, int count, long[] dims)
    {
        var expected = dims.Aggregate(1L, (a, d) => a * d);
        if (expected != count)
            throw new ArgumentException($"initializer {name}: shape [{string.Join(", ", dims)}] has {expected} elements but {count} values were given", nameof(dims));
        var tensor = new TensorProto { Name = name, DataType = (int)type };
        tensor.Dims.AddRange(dims);
        if (_externalData is not null && raw.Length >= _externalThreshold)
        {
            var align = raw.Length >= (1 << 20) ? 4096 : 64;
            var padding = (int)((align - _externalData.Position % align) % align);
            _externalData.Write(new byte[padding]);
            var offset = _externalData.Position;
            _externalData.Write(raw);
            tensor.DataLocation = TensorProto.Types.DataLocation.External;
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = _externalLocation });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = raw.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }
        else
            tensor.RawData = ByteString.CopyFrom(raw);
        _graph.Initializer.Add(tensor);
        return this;
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d switch
            {
                string s => new TensorShapeProto.Types.Dimension { DimParam = s },
                int i => new TensorShapeProto.Types.Dimension { DimValue = i },
                long l => new TensorShapeProto.Types.Dimension { DimValue = l },
                _ => throw new ArgumentException($"dimension of {name} must be a number or a name, got {d.GetType().Name}", nameof(dims)),
            });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    private static AttributeProto Attribute(string name, object value)
    {
        var a = new AttributeProto { Name = name };
        switch (value)
        {
            case int i: a.Type = AttributeProto.Types.AttributeType.Int; a.I = i; break;
            case long l: a.Type = AttributeProto.Types.AttributeType.Int; a.I = l; break;
            case float f: a.Type = AttributeProto.Types.AttributeType.Float; a.F = f; break;
            case string s: a.Type = AttributeProto.Types.AttributeType.String; a.S = ByteString.CopyFromUtf8(s); break;
            case long[] ls: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ls); break;
            case float[] fs: a.Type = AttributeProto.Types.AttributeType.Floats; a.Floats.AddRange(fs); break;
            default: throw new ArgumentException($"attribute {name}: unsupported value type {value.GetType().Name}", nameof(value));
        }
        return a;
    }
}
