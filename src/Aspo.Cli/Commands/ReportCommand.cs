using System.CommandLine;
using Aspo.Pipeline;

namespace Aspo.Cli.Commands;

/// <summary><c>aspo report RUN [RUN …] [--out report.html]</c>: the training-dynamics charts of one or more runs, overlaid, in one self-contained HTML file.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("runs") { Description = "Run directories (each with its metrics.jsonl).", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "The HTML file to write.", DefaultValueFactory = _ => "report.html" };
        var command = new Command("report", "Write one self-contained HTML report (no network needed) with the training curves of one or more runs overlaid.")
        {
            runs, output,
        };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var html = RunReport.Html(parse.GetValue(runs)!);
            var path = Path.GetFullPath(parse.GetValue(output)!);
            if (Path.GetDirectoryName(path) is { } folder && !Directory.Exists(folder))
                throw new ArgumentException($"--out {path}: folder {folder} does not exist");
            Aspo.Native.Files.AtomicFile.WriteAllText(path, html);
            Console.WriteLine($"wrote {path}");
            return 0;
        }));
        return command;
    }
}
