using System.Globalization;

namespace Aspo.Model;

/// <summary>Learning-rate schedules: constant, linear warm-up then constant, linear warm-up then cosine decay.</summary>
public sealed record LearningRateSchedule(string Kind, double PeakLearningRate, int WarmupSteps = 0, int TotalSteps = 0, double MinLearningRateRatio = 0)
{
    public static IReadOnlyList<string> Kinds { get; } = ["constant", "warmup", "cosine"];

    /// <summary>The learning rate of optimizer step <paramref name="step"/> (0-based).</summary>
    public double At(int step)
    {
        if (!Kinds.Contains(Kind))
            throw new ArgumentException($"unknown learning-rate schedule '{Kind}'; valid: {string.Join(", ", Kinds)}");
        if (Kind == "constant")
            return PeakLearningRate;
        if (step < WarmupSteps)
            return PeakLearningRate * (step + 1) / WarmupSteps;
        if (Kind == "warmup" || TotalSteps <= WarmupSteps)
            return PeakLearningRate;
        var progress = Math.Min(1.0, (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps));
        var min = PeakLearningRate * MinLearningRateRatio;
        return min + (PeakLearningRate - min) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Kind}(lr={PeakLearningRate}, warmup={WarmupSteps}, total={TotalSteps})");
}
