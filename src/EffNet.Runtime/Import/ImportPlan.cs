using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using EffNet.Model;

namespace EffNet.Import
{
    /// <summary>
    /// The model and epsilon an import settles on: what the checkpoint shows, unless <see cref="ImportOptions"/> set them.
    /// Options that contradict the checkpoint are refused together, with the command that imports it.
    /// </summary>
    /// <param name="Forced">The flags <see cref="ImportOptions.Force"/> let through against the checkpoint's source: "--padding tf".</param>
    /// <param name="Summary">What the checkpoint holds and what it was taken for, for the person importing it.</param>
    internal sealed record ImportPlan(ModelConfig Config, float Epsilon, IReadOnlyList<string> Forced, string Summary)
    {
        /// <summary>The plan for importing the checkpoint <paramref name="info"/> describes; <paramref name="options"/> passed <see cref="CheckRanges"/>.</summary>
        public static ImportPlan Make(CheckpointInfo info, ImportOptions options, string path, string output)
        {
            var problems = new List<string>();
            bool forceable = true;
            ImportOptions suggested = options;
            void Refuse(string problem, ImportOptions without, bool canForce)
            {
                problems.Add(problem);
                suggested = without;
                forceable &= canForce;
            }

            // The class count is read from the classifier in every family.
            void RefuseOtherClasses()
            {
                if (options.NumClasses is int classes && classes != info.NumClasses)
                    Refuse($"--classes {classes} does not fit: its classifier has {info.NumClasses} outputs ({info.ModelName}).", suggested with { NumClasses = null }, false);
            }

            double? width, depth;
            int resolvedPhi;
            if (info.Family != ModelFamily.EfficientNet)
            {
                // Lite and V2 have their official members only: --phi names a Lite member, --width and --depth do not apply.
                if (options.Phi is int askedMember && askedMember != info.Phi)
                    Refuse($"--phi {askedMember} does not fit: it holds {info.ModelName}" +
                           (info.Family == ModelFamily.EfficientNetLite ? $", not EfficientNet-Lite{askedMember}." : ", which has no Phi."), suggested with { Phi = null }, false);
                if (options.Width is not null || options.Depth is not null)
                    Refuse($"--width and --depth scale the B-series; it holds {info.ModelName}, whose coefficients are fixed.", suggested with { Width = null, Depth = null }, false);
                RefuseOtherClasses();
                (width, depth, resolvedPhi) = (info.Widths[0], info.Depths[0], info.Phi);
            }
            else
            {
                // The variant: --phi, or --width and --depth, must give the checkpoint's shapes.
                (width, depth) = (options.Width, options.Depth);
                if (options.Phi is int phi)
                    (width, depth) = (Scaling.WidthOf(phi), Scaling.DepthOf(phi));
                bool widthFits = width is not double w || info.Shape.SameChannels(NetworkShape.Of(w, 1.0));
                bool depthFits = depth is not double d || info.Shape.SameRepeats(NetworkShape.Of(1.0, d));
                if (options.Phi is int asked && !(widthFits && depthFits))
                    Refuse($"--phi {asked} does not fit: it holds {info.ModelName}, not EfficientNet-B{asked}.", suggested with { Phi = null }, false);
                if (options.Width is double askedWidth && !widthFits)
                    Refuse($"--width {Format(askedWidth)} does not fit: it holds {info.ModelName}.", suggested with { Width = null }, false);
                if (options.Depth is double askedDepth && !depthFits)
                    Refuse($"--depth {Format(askedDepth)} does not fit: it holds {info.ModelName}.", suggested with { Depth = null }, false);
                RefuseOtherClasses();
                width = widthFits ? width ?? info.Width : info.Width;
                depth = depthFits ? depth ?? info.Depth : info.Depth;
                if (width is null || depth is null)
                {
                    // Several grid values that reproduce the shapes build the same network: the command names the first.
                    if ((width is null && info.Widths.Count == 0) || (depth is null && info.Depths.Count == 0))
                        throw new WeightFormatException(path, $"its shapes ({info.Shape.Describe()}) are none of EfficientNet-B0..B7's, and no width " +
                            $"(a multiple of {Format(CheckpointInfo.WidthStep)}) and depth (a multiple of {Format(CheckpointInfo.DepthStep)}) give them: " +
                            "pass --width and --depth of the model it was trained as.");
                    Refuse(Open(width is null, depth is null, info), suggested with
                    {
                        Phi = null,
                        Width = width ?? info.Widths[0],
                        Depth = depth ?? info.Depths[0],
                    }, false);
                    width ??= info.Widths[0];
                    depth ??= info.Depths[0];
                }
                resolvedPhi = Scaling.PhiOf(width.Value, depth.Value);
            }

            // Padding and epsilon: the source's, unless asked; against a known source only with Force.
            WeightSource source = info.Source;
            string sourceNote = info.Layout == KeyLayout.Torchvision ? ""
                : info.SourceAssumed && info.Family == ModelFamily.EfficientNetLite ? " (assumed: timm names are the same for efficientnet_lite0, whose weights need --padding symmetric)"
                : info.SourceAssumed ? " (assumed: timm names are the same for tf_efficientnet_*, whose weights need --padding tf)"
                : " (named by its metadata)";
            var forced = new List<string>();
            EfficientNetPadding padding = source.Padding();
            if (options.Padding is EfficientNetPadding askedPadding && askedPadding != padding)
            {
                string flag = "--padding " + ImportOptions.PaddingFlag(askedPadding);
                if (info.SourceAssumed)
                {
                    // The names cannot tell timm's two kinds apart: the flag does.
                    source = askedPadding == EfficientNetPadding.Same ? WeightSource.TimmTensorFlow : WeightSource.Timm;
                    sourceNote = " (chosen by " + flag + ")";
                }
                else if (options.Force)
                {
                    forced.Add(flag);
                }
                else
                {
                    Refuse($"{flag} contradicts its {info.SourceEvidence}: {source.DisplayName()} weights use {PaddingName(padding)} padding, and another padding makes every output wrong.",
                           suggested with { Padding = null }, true);
                }
                padding = askedPadding;
            }
            float epsilon = source.Epsilon(resolvedPhi, info.Family);
            if (options.BatchNormEpsilon is float askedEpsilon && askedEpsilon != epsilon)
            {
                string flag = "--bn-eps " + Format(askedEpsilon);
                if (options.Force)
                    forced.Add(flag);
                else
                    Refuse($"{flag} contradicts its {info.SourceEvidence}: {source.DisplayName()} weights were trained with BatchNorm eps {Format(epsilon)}.",
                           suggested with { BatchNormEpsilon = null }, true);
                epsilon = askedEpsilon;
            }

            if (problems.Count > 0)
                throw new CheckpointMismatchException(path, output, string.Join(" ", problems), suggested, forceable);

            FamilySpec family = FamilySpec.Of(info.Family);
            var config = new ModelConfig(width!.Value, depth!.Value,
                options.Resolution ?? family.Member(resolvedPhi >= 0 ? resolvedPhi : 0).Resolution, info.NumClasses, padding, info.Family);
            string summary = $"{info.ModelName}, {source.DisplayName()} weights{sourceNote}: {PaddingName(padding)} padding, BatchNorm eps {Format(epsilon)}" +
                             (forced.Count > 0 ? $"; forced: {string.Join(" ", forced)}." : ".");
            return new ImportPlan(config, epsilon, forced, summary);
        }

        /// <summary>Values out of range are refused as such, before the checkpoint is read.</summary>
        public static void CheckRanges(ImportOptions options)
        {
            CheckpointImporter.CheckEpsilon(options.BatchNormEpsilon);
            if (options.Phi is not null && (options.Width is not null || options.Depth is not null))
                throw new ArgumentException("Give --phi, or --width and --depth, not both: --phi sets the width and depth of EfficientNet-B0..B7.");
            if (options.Phi is int phi && (phi < Scaling.MinPhi || phi > Scaling.MaxPhi))
                throw new ArgumentException($"--phi {phi} is not a variant; use {Scaling.MinPhi}..{Scaling.MaxPhi} for EfficientNet-B0..B7.");
            string[] problems = new ModelConfig(options.Width ?? 1.0, options.Depth ?? 1.0, options.Resolution ?? Scaling.ResolutionOf(0),
                                                options.NumClasses ?? ModelConfig.DefaultNumClasses, options.Padding ?? EfficientNetPadding.Symmetric).Validate();
            if (problems.Length > 0)
                throw new ArgumentException(string.Join(" ", problems));
        }

        /// <summary>Why the width or depth is left open: "its 1/2/2/3/3/4/1 blocks per stage come from depth 0.8 or 0.9 alike."</summary>
        static string Open(bool widthOpen, bool depthOpen, CheckpointInfo info)
        {
            var open = new List<string>();
            if (widthOpen)
                open.Add($"its stem and stage channels ({info.Shape.StemChannels}/{string.Join("/", info.Shape.StageChannels)}) come from width {string.Join(" or ", info.Widths.Select(Format))} alike");
            if (depthOpen)
                open.Add($"its {string.Join("/", info.Shape.BlocksPerStage)} blocks per stage come from depth {string.Join(" or ", info.Depths.Select(Format))} alike");
            return $"it is none of EfficientNet-B0..B7, and {string.Join(", and ", open)}: pass --width and --depth as the model was defined (any of these builds the same network).";
        }

        static string PaddingName(EfficientNetPadding padding) => padding == EfficientNetPadding.Same ? "TF-SAME" : "symmetric";

        /// <summary>0.001, 1E-05 -> 0.00001, 0.5: as a flag takes it.</summary>
        internal static string Format(double value) => value.ToString("0.##########", CultureInfo.InvariantCulture);
    }
}
