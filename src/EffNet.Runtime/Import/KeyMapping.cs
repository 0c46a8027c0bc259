using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using EffNet.Blocks;
using EffNet.Model;

namespace EffNet.Import
{
    /// <summary>Whose module names a checkpoint's keys follow.</summary>
    public enum KeyLayout
    {
        /// <summary>torchvision's <c>efficientnet_b*</c>: <c>features.0.0.weight</c>, <c>features.2.0.block.1.0.weight</c>, <c>classifier.1.weight</c>.</summary>
        Torchvision,

        /// <summary>timm's <c>efficientnet_b*</c> / <c>tf_efficientnet_b*</c>: <c>conv_stem.weight</c>, <c>blocks.1.0.conv_dw.weight</c>, <c>classifier.weight</c>.</summary>
        Timm,
    }

    /// <summary>Tells torchvision from timm key names and renames timm keys to torchvision's.</summary>
    public static class KeyMapping
    {
        /// <summary>Prefixes a whole state dict may carry: <c>module.</c> (DataParallel / DistributedDataParallel) and <c>model.</c> (wrappers).</summary>
        public static readonly IReadOnlyList<string> WrapperPrefixes = new[] { "module.", "model." };

        /// <summary>
        /// Removes <see cref="WrapperPrefixes"/> that every key shares (repeatedly, so <c>module.model.</c> goes too).
        /// Returns the tensors (or whatever the keys name) under the shorter names and the prefix removed ("" when none).
        /// </summary>
        public static (Dictionary<string, T> Tensors, string Prefix) StripWrapperPrefix<T>(IReadOnlyDictionary<string, T> tensors)
        {
            ArgumentNullException.ThrowIfNull(tensors);
            string prefix = "";
            bool stripped = true;
            while (stripped && tensors.Count > 0)
            {
                stripped = false;
                foreach (string candidate in WrapperPrefixes)
                {
                    string full = prefix + candidate;
                    if (tensors.Keys.All(k => k.StartsWith(full, StringComparison.Ordinal) && k.Length > full.Length))
                    {
                        prefix = full;
                        stripped = true;
                        break;
                    }
                }
            }
            var result = new Dictionary<string, T>(tensors.Count, StringComparer.Ordinal);
            foreach (KeyValuePair<string, T> item in tensors)
                result.Add(item.Key.Substring(prefix.Length), item.Value);
            return (result, prefix);
        }

        /// <summary>Which layout the keys follow (after <see cref="StripWrapperPrefix"/>).</summary>
        /// <exception cref="WeightFormatException">The keys are neither (or both); the message shows some of them.</exception>
        public static KeyLayout Detect(IEnumerable<string> keys, string? file = null)
        {
            ArgumentNullException.ThrowIfNull(keys);
            string[] all = keys.ToArray();
            bool torchvision = all.Any(k => k.StartsWith("features.", StringComparison.Ordinal));
            bool timm = all.Any(k => k.StartsWith("conv_stem.", StringComparison.Ordinal) || k.StartsWith("blocks.", StringComparison.Ordinal));
            if (torchvision != timm)
                return torchvision ? KeyLayout.Torchvision : KeyLayout.Timm;

            string sample = string.Join(", ", all.Take(5)) + (all.Length > 5 ? ", ..." : "");
            string why = torchvision
                ? "it mixes torchvision names (features.*) with timm names (conv_stem.*, blocks.*)"
                : all.Any(k => k.StartsWith("efficientnet.", StringComparison.Ordinal))
                    ? "it uses Hugging Face transformers names (efficientnet.*), which are not supported"
                    : "it has neither torchvision names (features.0.0.weight, ...) nor timm names (conv_stem.weight, blocks.0.0.conv_dw.weight, ...)";
            throw new WeightFormatException(file, $"cannot tell whose EfficientNet this checkpoint is: {why}. Its first keys: {sample}.");
        }

        /// <summary>
        /// The families a checkpoint's keys (after <see cref="StripWrapperPrefix"/>) and shapes can be: timm names without any
        /// squeeze-excitation tensor are EfficientNet-Lite (every B-series block has one); torchvision names whose first block
        /// starts with a dense conv (more than one input channel per filter, where B's has a depthwise one) are EfficientNetV2,
        /// whose size the shapes tell; the rest are the B-series.
        /// </summary>
        public static IReadOnlyList<ModelFamily> FamiliesOf(IEnumerable<string> keys, KeyLayout layout, Func<string, int[]?> shapeOf)
        {
            ArgumentNullException.ThrowIfNull(keys);
            ArgumentNullException.ThrowIfNull(shapeOf);
            if (layout == KeyLayout.Timm)
                return keys.Any(k => k.Contains(".se.", StringComparison.Ordinal))
                    ? new[] { ModelFamily.EfficientNet }
                    : new[] { ModelFamily.EfficientNetLite };
            return shapeOf(ModuleNames.Block(KeyStyle.Torchvision, 0, 0) + ".block.0.0.weight") is { Length: 4 } first && first[1] > 1
                ? new[] { ModelFamily.EfficientNetV2S, ModelFamily.EfficientNetV2M, ModelFamily.EfficientNetV2L }
                : new[] { ModelFamily.EfficientNet };
        }

        /// <summary>
        /// The tensors under torchvision's names. timm keys are renamed module by module (architecture reference 5.2);
        /// whether a timm block is a stage-0 <c>DepthwiseSeparableConv</c> (conv_dw, conv_pw = projection) or an
        /// <c>InvertedResidual</c> (conv_pw = expansion, conv_dw, conv_pwl) is read from the block's own keys, so a
        /// checkpoint of another variant still maps and the shape check names its layers in torchvision's terms.
        /// Keys that match no rule keep their name (and are reported as unexpected later). The values (tensors, or anything
        /// the keys name) are kept as they are.
        /// </summary>
        public static Dictionary<string, T> ToTorchvision<T>(IReadOnlyDictionary<string, T> tensors, KeyLayout layout)
        {
            ArgumentNullException.ThrowIfNull(tensors);
            var result = new Dictionary<string, T>(tensors.Count, StringComparer.Ordinal);
            if (layout == KeyLayout.Torchvision)
            {
                foreach (KeyValuePair<string, T> item in tensors)
                    result.Add(item.Key, item.Value);
                return result;
            }

            // Blocks "blocks.S.J" that have a conv_pwl are inverted residuals; the rest are depthwise-separable.
            var invertedResidual = new HashSet<string>(StringComparer.Ordinal);
            foreach (string key in tensors.Keys)
            {
                int at = key.IndexOf(".conv_pwl.", StringComparison.Ordinal);
                if (at > 0 && key.StartsWith("blocks.", StringComparison.Ordinal))
                    invertedResidual.Add(key.Substring(0, at));
            }

            foreach (KeyValuePair<string, T> item in tensors)
            {
                string name = TimmToTorchvision(item.Key, invertedResidual) ?? item.Key;
                if (!result.TryAdd(name, item.Value))
                    throw new WeightFormatException(null, $"timm key '{item.Key}' maps to '{name}', which another key already has.");
            }
            return result;
        }

        /// <summary>timm module -> torchvision module inside a B-series block, with and without an expansion conv.</summary>
        static readonly Dictionary<string, string> DepthwiseSeparable = BlockRenames(expansion: false);

        static readonly Dictionary<string, string> InvertedResidual = BlockRenames(expansion: true);

        static Dictionary<string, string> BlockRenames(bool expansion)
        {
            var renames = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (MBConvBlock.Part part in MBConvBlock.Parts(expansion, squeeze: true))
            {
                renames.Add(part.Timm, part.Torchvision);
                if (part.TimmNorm != null) renames.Add(part.TimmNorm, part.TorchvisionNorm!);
            }
            return renames;
        }

        static readonly Dictionary<string, string> TopLevel = TopLevelRenames(EfficientNetB.Spec.Stages.Count);

        static Dictionary<string, string> TopLevelRenames(int stages) => new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ModuleNames.StemConv(KeyStyle.Timm)] = ModuleNames.StemConv(KeyStyle.Torchvision),
            [ModuleNames.StemBatchNorm(KeyStyle.Timm)] = ModuleNames.StemBatchNorm(KeyStyle.Torchvision),
            [ModuleNames.HeadConv(KeyStyle.Timm, stages)] = ModuleNames.HeadConv(KeyStyle.Torchvision, stages),
            [ModuleNames.HeadBatchNorm(KeyStyle.Timm, stages)] = ModuleNames.HeadBatchNorm(KeyStyle.Torchvision, stages),
            [ModuleNames.Classifier(KeyStyle.Timm)] = ModuleNames.Classifier(KeyStyle.Torchvision),
        };

        /// <summary>The torchvision name of one timm key, or null when no rule matches.</summary>
        static string? TimmToTorchvision(string key, HashSet<string> invertedResidual)
        {
            int dot = key.LastIndexOf('.');
            if (dot <= 0)
                return null;
            string module = key.Substring(0, dot), field = key.Substring(dot); // field keeps its dot: ".weight"

            if (!module.StartsWith("blocks.", StringComparison.Ordinal))
                return TopLevel.TryGetValue(module, out string? top) ? top + field : null;

            // blocks.S.J.<inner> -> features.(S+1).J.<mapped inner>
            string[] parts = module.Split('.', 4);
            if (parts.Length != 4 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int stage) ||
                !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int index) || stage > 1000)
                return null;
            var rules = invertedResidual.Contains("blocks." + parts[1] + "." + parts[2]) ? InvertedResidual : DepthwiseSeparable;
            return rules.TryGetValue(parts[3], out string? inner)
                ? ModuleNames.Block(KeyStyle.Torchvision, stage, index) + "." + inner + field
                : null;
        }
    }
}
