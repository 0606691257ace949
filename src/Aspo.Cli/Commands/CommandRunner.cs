using Aspo.Native;

namespace Aspo.Cli.Commands;

/// <summary>Runs a command body and turns user-facing failures into one message on stderr and exit code 1, never a stack trace.</summary>
internal static class CommandRunner
{
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is AspoNativeException or Aspo.Model.ModelFormatException or Aspo.Model.TrainingDivergedException
                                       or Aspo.Data.DataFormatException or ArgumentException or IOException
                                       or InvalidDataException or UnauthorizedAccessException
                                       or Aspo.Pipeline.Config.ConfigException or Aspo.Rewards.Code.SandboxUnavailableException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
