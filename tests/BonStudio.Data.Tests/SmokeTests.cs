namespace BonStudio.Data.Tests;
public class SmokeTests { [Fact] public void Placeholder_is_replaced_by_real_tests() => Assert.True(typeof(SmokeTests).Assembly.GetName().Name!.Length > 0); }
