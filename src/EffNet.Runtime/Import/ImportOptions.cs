using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using EffNet.Model;

namespace EffNet.Import
{
    /// <summary>
    /// How to import a checkpoint (<see cref="CheckpointImporter.Import(string, string, ImportOptions?, IProgress{double}?)"/>):
    /// every model choice left null is read from the checkpoint. Each member is one flag of <c>effnet import</c>.
    /// </summary>
    public sealed record ImportOptions
    {
        /// <summary>EfficientNet-B0..B7 (<c>--phi</c>); refused when the checkpoint holds another variant. Not with <see cref="Width"/> or <see cref="Depth"/>.</summary>
        public int? Phi { get; init; }

        /// <summary>Width multiplier (<c>--width</c>), for a custom size whose shapes do not pin it down; refused when the shapes disagree.</summary>
        public double? Width { get; init; }

        /// <summary>Depth multiplier (<c>--depth</c>), for a custom size whose shapes do not pin it down; refused when the shapes disagree.</summary>
        public double? Depth { get; init; }

        /// <summary>Classifier outputs (<c>--classes</c>); refused when the classifier has another number.</summary>
        public int? NumClasses { get; init; }

        /// <summary>Input size the blob is for (<c>--resolution</c>); by default the variant's native size (224 for a custom size).</summary>
        public int? Resolution { get; init; }

        /// <summary>
        /// Padding (<c>--padding</c>). By default the checkpoint's source's; for timm names it chooses the source (Same: a
        /// <c>tf_efficientnet_*</c> port). Another padding than a known source's is refused unless <see cref="Force"/>.
        /// </summary>
        public EfficientNetPadding? Padding { get; init; }

        /// <summary>BatchNorm epsilon (<c>--bn-eps</c>). By default the source's; another value is refused unless <see cref="Force"/>.</summary>
        public float? BatchNormEpsilon { get; init; }

        /// <summary>Let <see cref="Padding"/> and <see cref="BatchNormEpsilon"/> contradict the checkpoint's source (<c>--force</c>); the blob records it.</summary>
        public bool Force { get; init; }

        /// <summary>Keep NaN and infinite weights (<c>--allow-non-finite</c>); the blob records that it may hold them.</summary>
        public bool AllowNonFinite { get; init; }

        /// <summary>
        /// The labels, preprocessing and creation time to record (<c>--labels</c>, <c>--resize</c>, ...), given the model the
        /// checkpoint turned out to be; called before any tensor is read. Null records the published preprocessing preset.
        /// </summary>
        public Func<ModelConfig, ImportMetadata?>? MetadataFor { get; init; }

        /// <summary>These options as <c>effnet import</c> flags, each with a leading space: " --classes 5 --padding tf".</summary>
        public string ToFlags()
        {
            var flags = new List<string>();
            void Add(string flag, double? value)
            {
                if (value is double given) flags.Add(flag + " " + ImportPlan.Format(given));
            }
            Add("--phi", Phi);
            Add("--width", Width);
            Add("--depth", Depth);
            Add("--classes", NumClasses);
            Add("--resolution", Resolution);
            if (Padding is EfficientNetPadding padding) flags.Add("--padding " + PaddingFlag(padding));
            Add("--bn-eps", BatchNormEpsilon);
            if (Force) flags.Add("--force");
            if (AllowNonFinite) flags.Add("--allow-non-finite");
            return string.Concat(flags.Select(flag => " " + flag));
        }

        /// <summary>"tf" or "torch", as <c>--padding</c> takes them.</summary>
        public static string PaddingFlag(EfficientNetPadding padding) => padding == EfficientNetPadding.Same ? "tf" : "torch";

        /// <summary>The <c>effnet import</c> command with these options, its paths quoted for a POSIX shell where needed.</summary>
        public string ToCommand(string checkpoint, string output)
            => $"effnet import {ShellWord(checkpoint)} -o {ShellWord(output)}{ToFlags()}";

        static string ShellWord(string text)
            => text.Length > 0 && Regex.IsMatch(text, @"^[A-Za-z0-9_./:=@%+,-]+$") ? text : "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    /// <summary>
    /// The checkpoint cannot be imported as asked: an option of <see cref="ImportOptions"/> contradicts what it shows (a
    /// variant, width, depth or class count its shapes do not have; a padding or epsilon its source does not use, without
    /// <see cref="ImportOptions.Force"/>), or its shapes leave the width or depth open. The message names the problem and
    /// the command that imports the checkpoint.
    /// </summary>
    public sealed class CheckpointMismatchException : Exception
    {
        public CheckpointMismatchException(string path, string output, string problem, ImportOptions suggested, bool forceable)
            : base(Describe(path, problem, suggested.ToCommand(System.IO.Path.GetFileName(path), System.IO.Path.GetFileName(output)), forceable))
        {
            Path = path;
            Problem = problem;
            Suggested = suggested;
            Forceable = forceable;
        }

        /// <summary>The checkpoint.</summary>
        public string Path { get; }

        /// <summary>What does not fit, in a sentence or two: "--phi 3 does not fit: it holds EfficientNet-B0 with 5 classes."</summary>
        public string Problem { get; }

        /// <summary>The options that import the checkpoint: those given, without the ones that do not fit.</summary>
        public ImportOptions Suggested { get; }

        /// <summary>Whether <see cref="ImportOptions.Force"/> would let the given options through.</summary>
        public bool Forceable { get; }

        /// <summary>The message, with the command spelt with <paramref name="checkpoint"/> and <paramref name="output"/> as the user typed them.</summary>
        public string DescribeFor(string checkpoint, string output)
            => Describe(checkpoint, Problem, Suggested.ToCommand(checkpoint, output), Forceable);

        static string Describe(string path, string problem, string command, bool forceable)
            => $"{path}: {problem} Import it with: {command}" +
               (forceable ? " (or add --force if the weights really need what you asked for; the blob records it)." : "");
    }
}
