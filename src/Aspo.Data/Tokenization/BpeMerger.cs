namespace Aspo.Data.Tokenization;

/// <summary>
/// BPE merging of one piece (Hugging Face word.rs <c>merge_all</c>): symbols in a linked list, candidate merges in a
/// min-heap ordered by (rank, position); the lowest rank wins, the leftmost on ties; stale heap entries are skipped.
/// Buffers are reused across calls.
/// </summary>
internal sealed class BpeMerger
{
    private int[] _id = new int[64], _prev = new int[64], _next = new int[64];
    private bool[] _alive = new bool[64];
    private readonly PriorityQueue<(int Pos, int NewId), (int Rank, int Pos)> _heap = new();

    public int[] Merge(ReadOnlySpan<char> mapped, BpeTokenizer.Tables t)
    {
        var n = mapped.Length;
        if (_id.Length < n)
        {
            var size = Math.Max(n, 2 * _id.Length);
            _id = new int[size]; _prev = new int[size]; _next = new int[size]; _alive = new bool[size];
        }
        Span<char> one = stackalloc char[1];
        for (var i = 0; i < n; i++)
        {
            one[0] = mapped[i];
            if (!t.VocabLookup.TryGetValue(one, out var id))
                throw new DataFormatException($"{t.Source}: byte character U+{(int)mapped[i]:X4} is not in the vocabulary (not a byte-level BPE?)");
            _id[i] = id;
            _prev[i] = i - 1;
            _next[i] = i + 1 < n ? i + 1 : -1;
            _alive[i] = true;
        }
        _heap.Clear();
        for (var i = 0; i + 1 < n; i++)
            Push(i, i + 1, t);

        while (_heap.TryDequeue(out var top, out _))
        {
            var pos = top.Pos;
            if (!_alive[pos] || _next[pos] < 0)
                continue;
            var right = _next[pos];
            if (!t.Merges.TryGetValue(Key(_id[pos], _id[right]), out var m) || m.Merged != top.NewId)
                continue; // stale: one side changed since this entry was queued
            _id[pos] = m.Merged;
            _alive[right] = false;
            _next[pos] = _next[right];
            if (_next[pos] >= 0)
                _prev[_next[pos]] = pos;
            if (_prev[pos] >= 0)
                Push(_prev[pos], pos, t);
            if (_next[pos] >= 0)
                Push(pos, _next[pos], t);
        }

        var count = 0;
        for (var i = 0; i >= 0 && i < n; i = _next[i])
            count++;
        var result = new int[count];
        var k = 0;
        for (var i = 0; i >= 0 && i < n; i = _next[i])
            result[k++] = _id[i];
        return result;
    }

    private void Push(int left, int right, BpeTokenizer.Tables t)
    {
        if (t.Merges.TryGetValue(Key(_id[left], _id[right]), out var m))
            _heap.Enqueue((left, m.Merged), (m.Rank, left));
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;
}
