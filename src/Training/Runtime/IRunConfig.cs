namespace BonStudio.Training.Runtime;

/// <summary>
/// What every run kind's configuration record carries, so hosts can record it for reproducibility.
/// Config records are plain records with System.ComponentModel.DataAnnotations attributes
/// ([Range], [Required], [Description], ...): one description drives the web form, the REST API and `run`.
/// </summary>
public interface IRunConfig
{
    /// <summary>Seed for every random number generator of the run.</summary>
    long Seed { get; }
    /// <summary>"auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".</summary>
    string Device { get; }
    /// <summary>Intra-op threads for libtorch; 0 = libtorch's default.</summary>
    int Threads { get; }
}
