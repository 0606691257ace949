namespace Aspo.Rewards.Tests;

public sealed class OverlongPenaltyTests
{
    [Theory]
    [InlineData(100, 128, 16, 1.0, 0.0)]       // within the expected length
    [InlineData(112, 128, 16, 1.0, 0.0)]       // exactly at max − buffer
    [InlineData(120, 128, 16, 1.0, -0.5)]      // half way into the buffer
    [InlineData(128, 128, 16, 1.0, -1.0)]      // at the max
    [InlineData(120, 128, 16, 0.5, -0.25)]     // penalty factor
    public void Overlong_penalty_is_dapos_linear_ramp(int length, int max, int buffer, double factor, double expected) =>
        Assert.Equal(expected, ShapedReward.OverlongPenalty(length, max, buffer, factor), 12);
}
