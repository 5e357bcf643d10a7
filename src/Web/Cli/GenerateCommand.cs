// `generate`: load a model (llama2.c .bin, BonStudio .safetensors checkpoint, or Hugging Face folder), encode a prompt,
// decode with the batched KV-cached sampler, print the ids and text. A thin shell over ModelLoader (src/Training).
using System.CommandLine;
using BonStudio.Training.Models.Loaders;
using BonStudio.Training.Runtime;

namespace BonStudio.Web.Cli;

public static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "llama2.c .bin file, BonStudio .safetensors checkpoint, or Hugging Face folder", Required = true };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "llama2.c tokenizer file (default: tokenizer.bin or tok{vocab}.bin beside the model)" };
        var prompt = new Option<string>("--prompt") { Description = "Prompt text (may be empty)", Required = true };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Most tokens to generate", DefaultValueFactory = _ => 64 };
        var temperature = new Option<double>("--temperature") { Description = "0 = greedy (first index on ties)", DefaultValueFactory = _ => 0.0 };
        var seed = new Option<long>("--seed") { Description = "Sampling seed", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda, cuda:N", DefaultValueFactory = _ => "auto" };
        var json = new Option<bool>("--json") { Description = "Print {\"prompt_ids\", \"generated_ids\", \"text\"} as JSON" };

        var cmd = new Command("generate", "Generate text from a model; stops at the model's end token (llama2.c: id 1, not included).")
        {
            model, tokenizer, prompt, maxNewTokens, temperature, seed, device, json,
        };
        cmd.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            try
            {
                using var loaded = ModelLoader.Load(parse.GetValue(model)!, parse.GetValue(tokenizer), TorchRuntime.ResolveDevice(parse.GetValue(device)));
                var result = ModelLoader.Generate(loaded, parse.GetValue(prompt) ?? "", parse.GetValue(maxNewTokens),
                    parse.GetValue(temperature), parse.GetValue(seed));
                output.WriteLine(parse.GetValue(json) ? result.ToJson() : result.Text);
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException or NotSupportedException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"generate: {e.Message}");
                return 1;
            }
        });
        return cmd;
    }
}
