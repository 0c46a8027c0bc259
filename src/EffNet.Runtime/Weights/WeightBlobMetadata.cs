using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Text;
using EffNet.Model;

namespace EffNet
{
    /// <summary>
    /// What travels with the weights since blob format v2 (docs/weight-format.md, "Metadata"): the class labels, the
    /// preprocessing the weights expect and where they came from. Each part may be absent.
    /// </summary>
    /// <param name="Labels">One label per class, in class-index order, or null.</param>
    /// <param name="Preprocessing">The image preprocessing the weights were trained and evaluated with, or null when unknown.</param>
    /// <param name="Provenance">The checkpoint and the tool the blob was made from, or null (a blob not made by import).</param>
    public sealed record WeightBlobMetadata(IReadOnlyList<string>? Labels, PreprocessingInfo? Preprocessing, WeightProvenance? Provenance)
    {
        /// <summary>No labels, no preprocessing, no provenance.</summary>
        public static readonly WeightBlobMetadata None = new(null, null, null);

        /// <summary>The longest label, in UTF-8 bytes.</summary>
        public const int MaxLabelBytes = 256;

        /// <summary>What is wrong with <paramref name="label"/> as a class label, or null when it is fine.</summary>
        public static string? LabelProblem(string label)
        {
            ArgumentNullException.ThrowIfNull(label);
            if (label.Trim().Length == 0)
                return "it is empty";
            if (label.Trim().Length != label.Length)
                return "it starts or ends with white space";
            if (label.Any(char.IsControl))
                return "it holds a line break, tab or other control character";
            int bytes = Encoding.UTF8.GetByteCount(label);
            if (bytes > MaxLabelBytes)
                return $"it is {bytes} bytes of UTF-8, more than {MaxLabelBytes}";
            return null;
        }

        /// <summary>
        /// Problems with this metadata for a model of <paramref name="config"/>, one sentence each; empty when it fits.
        /// Duplicate labels are allowed: real label lists have them (ImageNet's "crane" and "maillot" name two classes each).
        /// </summary>
        public string[] Problems(ModelConfig config)
        {
            ArgumentNullException.ThrowIfNull(config);
            var problems = new List<string>();
            if (Labels is not null)
            {
                if (Labels.Count != config.NumClasses)
                    problems.Add($"there are {Labels.Count} labels but the model has {config.NumClasses} classes: give exactly one label per class, in class-index order.");
                for (int i = 0; i < Labels.Count && problems.Count < 5; i++)
                    if (LabelProblem(Labels[i] ?? throw new ArgumentException($"Label {i} is null.")) is string problem)
                        problems.Add($"label {i} ({Quote(Labels[i])}) cannot be used: {problem}.");
            }
            if (Preprocessing is not null && Preprocessing.CropSize != config.Resolution)
                problems.Add($"the preprocessing crops {Preprocessing.CropSize} pixels but the model's input is {config.Resolution}: the crop size must be the model's resolution.");
            return problems.ToArray();
        }

        /// <summary>A label for a message: quoted, and cut short when long.</summary>
        internal static string Quote(string label) => "\"" + (label.Length > 40 ? label[..40] + "..." : label) + "\"";
    }

    /// <summary>Where a blob's weights came from.</summary>
    /// <param name="SourceFileName">The checkpoint's file name, without its directory.</param>
    /// <param name="SourceSha256">SHA-256 of the checkpoint file, 64 lower-case hex digits.</param>
    /// <param name="ToolVersion">The EffNet.Runtime version that wrote the blob (its informational version).</param>
    /// <param name="CreatedUtc">When the blob was written, UTC, to the second.</param>
    public sealed record WeightProvenance(string SourceFileName, string SourceSha256, string ToolVersion, DateTimeOffset CreatedUtc)
    {
        /// <summary>The longest file name and tool version, in UTF-8 bytes.</summary>
        public const int MaxTextBytes = 1024;

        /// <summary>How <see cref="CreatedUtc"/> is written: ISO 8601, UTC, whole seconds.</summary>
        public const string TimeFormat = "yyyy-MM-ddTHH:mm:ssZ";

        /// <summary>This EffNet.Runtime's informational version, e.g. "1.0.0+4d00287".</summary>
        public static string CurrentToolVersion { get; } =
            typeof(WeightProvenance).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? typeof(WeightProvenance).Assembly.GetName().Version?.ToString() ?? "unknown";

        /// <summary><see cref="CreatedUtc"/> as the blob stores it, e.g. "2025-01-31T12:00:00Z".</summary>
        public string CreatedText => CreatedUtc.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

        /// <summary>Problems with the values, one sentence each; empty when they can be stored.</summary>
        public string[] Problems()
        {
            var problems = new List<string>();
            if (string.IsNullOrEmpty(SourceFileName) || Encoding.UTF8.GetByteCount(SourceFileName) > MaxTextBytes || SourceFileName.Any(char.IsControl))
                problems.Add($"the source file name must be 1..{MaxTextBytes} bytes of UTF-8 without control characters.");
            if (SourceSha256 is null || SourceSha256.Length != 64 || !SourceSha256.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f'))
                problems.Add("the source SHA-256 must be 64 lower-case hex digits.");
            if (string.IsNullOrEmpty(ToolVersion) || Encoding.UTF8.GetByteCount(ToolVersion) > MaxTextBytes || ToolVersion.Any(char.IsControl))
                problems.Add($"the tool version must be 1..{MaxTextBytes} bytes of UTF-8 without control characters.");
            if (CreatedUtc.Ticks % TimeSpan.TicksPerSecond != 0 || CreatedUtc.Offset != TimeSpan.Zero)
                problems.Add("the creation time must be UTC and whole seconds (use WeightProvenance.Now or truncate it).");
            return problems.ToArray();
        }

        /// <summary>The current UTC time, to the second, as a blob records it.</summary>
        public static DateTimeOffset Now()
        {
            DateTimeOffset now = DateTimeOffset.UtcNow;
            return new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        }
    }
}
