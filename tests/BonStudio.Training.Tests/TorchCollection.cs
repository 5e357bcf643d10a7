namespace BonStudio.Training.Tests;

[CollectionDefinition("Torch", DisableParallelization = true)]
public sealed class TorchCollection;
