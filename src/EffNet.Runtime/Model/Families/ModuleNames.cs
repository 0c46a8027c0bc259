using System.Globalization;

namespace EffNet.Model
{
    /// <summary>
    /// The module paths of the network-level layers (stem, blocks, head, pool, classifier) in each key style; a block's
    /// own layers are named by its lowering (EffNet.Blocks). The stage names are also what a traced run reports.
    /// </summary>
#if EFFNET_RUNTIME
    public
#endif
    static class ModuleNames
    {
        public static string StemConv(KeyStyle keys) => keys == KeyStyle.Timm ? "conv_stem" : "features.0.0";

        public static string StemBatchNorm(KeyStyle keys) => keys == KeyStyle.Timm ? "bn1" : "features.0.1";

        /// <summary>The stem's output: torchvision's <c>features.0</c>; in timm, the activated <c>bn1</c>.</summary>
        public static string StemStage(KeyStyle keys) => keys == KeyStyle.Timm ? "bn1" : "features.0";

        /// <summary>Block <paramref name="index"/> of stage <paramref name="stage"/> (both 0-based): torchvision counts the stem as features.0.</summary>
        public static string Block(KeyStyle keys, int stage, int index) => keys == KeyStyle.Timm
            ? "blocks." + N(stage) + "." + N(index)
            : "features." + N(stage + 1) + "." + N(index);

        public static string StageOutput(KeyStyle keys, int stage) => keys == KeyStyle.Timm ? "blocks." + N(stage) : "features." + N(stage + 1);

        public static string HeadConv(KeyStyle keys, int stages) => keys == KeyStyle.Timm ? "conv_head" : HeadStage(keys, stages) + ".0";

        public static string HeadBatchNorm(KeyStyle keys, int stages) => keys == KeyStyle.Timm ? "bn2" : HeadStage(keys, stages) + ".1";

        /// <summary>The head's output: torchvision's last <c>features.N</c>; in timm, the activated <c>bn2</c>.</summary>
        public static string HeadStage(KeyStyle keys, int stages) => keys == KeyStyle.Timm ? "bn2" : "features." + N(stages + 1);

        public static string Pool(KeyStyle keys) => keys == KeyStyle.Timm ? "global_pool" : "avgpool";

        /// <summary>The final Linear: torchvision's sits after a Dropout in <c>classifier</c>.</summary>
        public static string Classifier(KeyStyle keys) => keys == KeyStyle.Timm ? "classifier" : "classifier.1";

        static string N(int value) => value.ToString(CultureInfo.InvariantCulture);
    }
}
