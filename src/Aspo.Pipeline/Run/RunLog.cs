using System.Diagnostics;

namespace Aspo.Pipeline;

/// <summary>
/// What a run prints: whole lines, and progress — on a terminal one line rewritten in place (at most every 250 ms
/// unless asked), otherwise plain lines (each forced one, else at most every 10 s).
/// </summary>
public sealed class RunLog(TextWriter writer)
{
    private readonly bool _live = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
    private readonly Stopwatch _sinceProgress = Stopwatch.StartNew();
    private int _liveLength;

    public TextWriter Writer { get; } = writer;

    public void Line(string text) => Writer.WriteLine(text);

    public void Write(string text) => Writer.Write(text);

    /// <param name="everyCall">print even if the last progress line is recent</param>
    public void Progress(string text, bool everyCall)
    {
        if (_live)
        {
            if (_sinceProgress.ElapsedMilliseconds < 250 && !everyCall)
                return;
            Writer.Write("\r" + text.PadRight(_liveLength));
            _liveLength = text.Length;
        }
        else if (everyCall || _sinceProgress.ElapsedMilliseconds >= 10_000)
            Writer.WriteLine(text);
        else
            return;
        _sinceProgress.Restart();
    }

    /// <summary>Clears the live progress line before ordinary output continues.</summary>
    public void EndProgress()
    {
        if (_live && _liveLength > 0)
            Writer.Write("\r" + new string(' ', _liveLength) + "\r");
        _liveLength = 0;
    }
}
