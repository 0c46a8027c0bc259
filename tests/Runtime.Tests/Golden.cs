using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using EffNet.Model;
using Xunit;
using Xunit.Abstractions;

namespace EffNet.Runtime.Tests
{
    /// <summary>One golden file written by tools/make_golden.py from the real torchvision.</summary>
    public sealed class Golden
    {
        public string Name { get; init; } = "";
        public int? Phi { get; init; }
        public double? Width { get; init; }
        public double? Depth { get; init; }
        public int Resolution { get; init; }
        public int NumClasses { get; init; }

        /// <summary>"symmetric" (torchvision) or "same" (TensorFlow SAME); older files leave it out.</summary>
        public string Padding { get; init; } = "symmetric";

        /// <summary>"lite" for EfficientNet-Lite (tools/make_lite_golden.py), "v2_s", "v2_m" or "v2_l" for EfficientNetV2; the B-series files leave it out.</summary>
        public string Family { get; init; } = "";

        ModelFamily? FamilyOfFile => Family switch
        {
            "" => null,
            "lite" => ModelFamily.EfficientNetLite,
            "v2_s" => ModelFamily.EfficientNetV2S,
            "v2_m" => ModelFamily.EfficientNetV2M,
            "v2_l" => ModelFamily.EfficientNetV2L,
            _ => throw new InvalidDataException($"Golden {Name}: unknown family '{Family}'."),
        };
        public float BnEps { get; init; }
        public ulong Seed { get; init; }
        public long Parameters { get; init; }
        public int[] Top5 { get; init; } = Array.Empty<int>();
        public float[] Logits { get; init; } = Array.Empty<float>();
        public StageStats[] Stages { get; init; } = Array.Empty<StageStats>();

        public EfficientNetPadding PaddingMode => Padding switch
        {
            "symmetric" => EfficientNetPadding.Symmetric,
            "same" => EfficientNetPadding.Same,
            _ => throw new InvalidDataException($"Golden {Name}: unknown padding '{Padding}'."),
        };

        public ModelConfig Config => FamilyOfFile is ModelFamily family
            ? ModelConfig.ForMember(family, Phi!.Value, Resolution, NumClasses, PaddingMode)
            : Phi is int phi
            ? ModelConfig.ForPhi(phi, Resolution, NumClasses, PaddingMode)
            : new ModelConfig(Width!.Value, Depth!.Value, Resolution, NumClasses, PaddingMode);

        public static Golden Load(string name) => LoadFile(Path.Combine(AppContext.BaseDirectory, "Golden", name + ".json"));

        /// <summary>Reads a golden file of this schema from anywhere (the import fixtures keep theirs beside the checkpoints).</summary>
        public static Golden LoadFile(string path)
        {
            var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
            return JsonSerializer.Deserialize<Golden>(File.ReadAllText(path), options)
                   ?? throw new InvalidDataException($"{path} is empty.");
        }

        /// <summary>Every golden model and the generated class that compiles the same network.</summary>
        public static readonly IReadOnlyDictionary<string, Func<Stream, IEfficientNetModel>> Models =
            new Dictionary<string, Func<Stream, IEfficientNetModel>>
            {
                ["b0"] = s => B0.Load(s),
                ["b1"] = s => B1.Load(s),
                ["b2"] = s => B2.Load(s),
                ["b3"] = s => B3.Load(s),
                ["b4"] = s => B4.Load(s),
                ["b5"] = s => B5.Load(s),
                ["b6"] = s => B6.Load(s),
                ["b7"] = s => B7.Load(s),
                ["b0_r160"] = s => B0At160.Load(s),
                ["b0_r257"] = s => B0At257.Load(s),
                ["b0_c10"] = s => B0With10Classes.Load(s),
                ["custom_w05_d06_r128"] = s => CustomSmall.Load(s),
                ["b0_same"] = s => B0Same.Load(s),
                ["lite0"] = s => Lite0.Load(s),
                ["lite1"] = s => Lite1.Load(s),
                ["lite2"] = s => Lite2.Load(s),
                ["lite3"] = s => Lite3.Load(s),
                ["lite4"] = s => Lite4.Load(s),
                ["lite0_symmetric"] = s => Lite0Symmetric.Load(s),
                ["v2_s"] = s => V2S.Load(s),
                ["v2_m"] = s => V2M.Load(s),
                ["v2_l"] = s => V2L.Load(s),
            };
    }

    /// <summary>Checksums of one stage's output: sum, sum of absolute values, largest absolute value.</summary>
    public sealed class StageStats
    {
        public string Name { get; init; } = "";
        public double Sum { get; init; }
        public double AbsSum { get; init; }
        public double MaxAbs { get; init; }
    }

    /// <summary>The acceptance bound against torchvision: max |ours - torchvision| &lt;= 1e-4 x max |torchvision logit|, and the same top-5.</summary>
    public static class LogitCheck
    {
        public const double RelativeTolerance = 1e-4;

        /// <summary>Writes the figures to <paramref name="output"/> (with <paramref name="note"/>), then asserts the bound and the top-5.</summary>
        public static void AssertMatches(ITestOutputHelper output, string label, Golden golden, float[] logits, string note = "")
        {
            double scale = golden.Logits.Max(v => Math.Abs(v));
            double maxDiff = golden.Logits.Zip(logits, (e, a) => Math.Abs(e - (double)a)).Max();
            output.WriteLine($"{label}: max |diff| {maxDiff:e3} = {maxDiff / scale:e3} x max|logit| ({scale:f4}){note}");
            Assert.True(maxDiff <= RelativeTolerance * scale, $"{label}: max |diff| {maxDiff:e3} exceeds {RelativeTolerance} x {scale:f4}");
            Assert.Equal(golden.Top5, Top5(logits));
        }

        /// <summary>Indices of the five largest logits, ties to the lower index.</summary>
        public static int[] Top5(float[] logits)
            => Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i).Take(5).ToArray();
    }

    /// <summary>Builds a model from the same seeded weights the golden file was made with.</summary>
    public static class SyntheticModel
    {
        public static IEfficientNetModel Create(Golden golden)
        {
            NetworkLayout layout = NetworkLayout.Create(golden.Config);
            var blob = new MemoryStream(checked((int)(layout.WeightFloats * 4 + (1 << 20))));
            WeightBlobWriter.Write(blob, layout, SyntheticWeights.CreateStateDict(layout, golden.Seed), golden.BnEps, "synthetic weights, seed " + golden.Seed);
            blob.Position = 0;
            return Golden.Models[golden.Name](blob);
        }
    }
}
