// Settings of evaluations and imports, bound from configuration section "EvaluationOptions".
namespace BonStudio.Web.Services;

public sealed class EvaluationOptions
{
    /// <summary>Largest import upload accepted by the REST API (bytes); larger → 413. Default 256 MiB.</summary>
    public long MaxUploadBytes { get; set; } = 256L * 1024 * 1024;
}

public static class EvaluationServiceCollectionExtensions
{
    /// <summary>Evaluation services: metrics/inspector queries (with their cache) and imports.</summary>
    public static IServiceCollection AddBonStudioEvaluations(this IServiceCollection services)
    {
        services.AddOptions<EvaluationOptions>().BindConfiguration(nameof(EvaluationOptions));
        services.AddSingleton<EvaluationService>();
        services.AddSingleton<EvaluationImports>();
        return services;
    }
}
