using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading;
using EffNet.Imaging;
using EffNet.Model;

namespace EffNet.Training
{
    /// <summary>The pooled features of labelled images: <see cref="Rows"/> x <see cref="Dimension"/> floats, with each row's class.</summary>
    public sealed class FeatureSet(float[] features, int[] classes, int dimension)
    {
        public float[] Features { get; } = features;
        public int[] Classes { get; } = classes;
        public int Dimension { get; } = dimension;
        public int Rows => Classes.Length;
        public ReadOnlySpan<float> Row(int row) => Features.AsSpan(row * Dimension, Dimension);

        /// <summary>The rows of <paramref name="first"/>, then those of <paramref name="second"/>.</summary>
        public static FeatureSet Concat(FeatureSet first, FeatureSet second)
            => new([.. first.Features, .. second.Features], [.. first.Classes, .. second.Classes], first.Dimension);
    }

    /// <summary>
    /// Runs a base model over labelled images and keeps its pooled features (the input of its classifier), or for
    /// fine-tuning the input of a later block, for every view of each image (<see cref="ImageViews"/>). Images run side by side on every core, each on its own arena. Features are
    /// cached on disk under the base blob's content and each image file's content, so a second run skips the model.
    /// </summary>
    public sealed class FeatureExtractor : IDisposable
    {
        readonly EfficientNetModel _model;
        readonly Preprocessing _preprocessing;
        readonly string? _cache;
        readonly int _threads;

        readonly int _block = -1;

        /// <param name="cacheFolder">where features are kept between runs, or null for no cache</param>
        /// <param name="unfrozenBlocks">0: the pooled features. K: instead, the input of the K-th block from the end (what
        /// the frozen layers compute for fine-tuning the blocks from there on).</param>
        public FeatureExtractor(string baseBlobPath, string? cacheFolder, int threads, int unfrozenBlocks = 0)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
            _threads = threads;
            _model = EfficientNetModel.Load(baseBlobPath, new ModelOptions { Threads = 1 });
            BaseLabels = _model.Labels;
            PreprocessingInfo = _model.WeightInfo.Metadata.Preprocessing ?? PreprocessingInfo.PublishedFor(_model.Config)
                ?? throw new ArgumentException($"{baseBlobPath}: the blob records no preprocessing and {_model.Config.DisplayName} has no published preset; " +
                                               "import the base with --resize and --crop so the features are computed as it was trained.");
            _preprocessing = Preprocessing.From(PreprocessingInfo);
            int blocks = _model.Layout.Blocks.Count;
            if (unfrozenBlocks < 0 || unfrozenBlocks > blocks)
                throw new ArgumentException($"{baseBlobPath}: {_model.Config.DisplayName} has {blocks} blocks; unfreeze 0 (the head only) to {blocks} of them, not {unfrozenBlocks}.");
            if (unfrozenBlocks > 0)
            {
                _block = blocks - unfrozenBlocks;
                BlockLayout first = _model.Layout.Blocks[_block];
                Dimension = first.InHeight * first.InWidth * first.InChannels;
            }
            else Dimension = _model.FeatureCount;
            BaseSha256 = Sha256Of(baseBlobPath);
            if (cacheFolder != null)
                _cache = Path.Combine(cacheFolder, CacheKey(BaseSha256, PreprocessingInfo) + (_block >= 0 ? "-block" + _block : ""));
        }

        /// <summary>The preprocessing the features are computed with: the base blob's, else its variant's published preset.</summary>
        public PreprocessingInfo PreprocessingInfo { get; }

        /// <summary>SHA-256 of the base blob file, lower-case hex.</summary>
        public string BaseSha256 { get; }
        public IReadOnlyList<string>? BaseLabels { get; }
        /// <summary>Floats per view: the pooled features, or the block input (height x width x channels).</summary>
        public int Dimension { get; }

        /// <summary>Images whose features came from the cache in the last <see cref="Extract"/>, and those the model ran on.</summary>
        public int CacheHits { get; private set; }
        public int Computed { get; private set; }

        /// <summary>
        /// Features of <paramref name="views"/> views of each image (rows in image order, views together). An image that
        /// cannot be read is reported through <paramref name="problem"/> in one line and left out.
        /// </summary>
        public FeatureSet Extract(IReadOnlyList<LabelledImage> images, int views, Action<string> problem, Action? advance = null)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(views, 1);
            int dimension = Dimension;
            var perImage = new float[images.Count][];
            int next = -1, hits = 0, computed = 0;
            Exception? bug = null;
            var gate = new object();

            void Work()
            {
                var tensor = new float[_model.InputLength];
                int i;
                while ((i = Interlocked.Increment(ref next)) < images.Count && Volatile.Read(ref bug) is null)
                {
                    try
                    {
                        perImage[i] = ImageFeatures(images[i].Path, views, tensor, ref hits, ref computed);
                    }
                    catch (Exception e) when (ImageFiles.IsUnreadable(e))
                    {
                        lock (gate) problem(ImageFiles.Unreadable(images[i].Path, e));
                    }
                    catch (Exception e)
                    {
                        Interlocked.CompareExchange(ref bug, e, null);
                    }
                    if (advance != null) lock (gate) advance();
                }
            }

            var threads = new Thread[Math.Max(1, Math.Min(_threads, images.Count))];
            for (int t = 0; t < threads.Length; t++) (threads[t] = new Thread(Work) { IsBackground = true, Name = "effnet features " + t }).Start();
            foreach (Thread thread in threads) thread.Join();
            if (bug != null) throw new InvalidOperationException("Feature extraction failed: " + bug.Message, bug);
            CacheHits = hits;
            Computed = computed;

            var rows = new List<int>();
            var features = new List<float[]>();
            for (int i = 0; i < images.Count; i++)
            {
                if (perImage[i] is not { } f) continue;
                features.Add(f);
                for (int v = 0; v < views; v++) rows.Add(images[i].Class);
            }
            var all = new float[rows.Count * dimension];
            for (int i = 0; i < features.Count; i++) features[i].CopyTo(all, i * views * dimension);
            return new FeatureSet(all, rows.ToArray(), dimension);
        }

        float[] ImageFeatures(string path, int views, float[] tensor, ref int hits, ref int computed)
        {
            if (new FileInfo(path).Length > ImageDecoder.DefaultMaxFileBytes)
                throw new ImageFormatException(path, $"the file is larger than the image file limit of {ImageDecoder.DefaultMaxFileBytes:N0} bytes; re-encode it smaller.");
            byte[] file = File.ReadAllBytes(path);
            byte[] content = SHA256.HashData(file);
            string? cached = _cache is null ? null : Path.Combine(_cache, Convert.ToHexStringLower(content) + ".f32");
            int length = views * Dimension;
            if (cached != null && File.Exists(cached) && new FileInfo(cached).Length >= length * sizeof(float))
            {
                var stored = new float[length];
                using (var stream = File.OpenRead(cached))
                    stream.ReadExactly(MemoryMarshal.AsBytes(stored.AsSpan()));
                Interlocked.Increment(ref hits);
                return stored;
            }

            RgbImage image = ImageDecoder.Decode(file, path);
            ulong seed = BitConverter.ToUInt64(content, 0);
            var result = new float[length];
            for (int v = 0; v < views; v++)
            {
                _preprocessing.Apply(ImageViews.View(image, v, seed), tensor);
                if (_block >= 0) _model.BlockInput(tensor, _block, result.AsSpan(v * Dimension, Dimension));
                else _model.Features(tensor, result.AsSpan(v * Dimension, Dimension));
            }
            Interlocked.Increment(ref computed);
            if (cached != null) Store(cached, result);
            return result;
        }

        // Written whole to a temporary name, then renamed: a run stopped half way leaves no half file to be read later.
        static void Store(string path, float[] features)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            string temporary = path + ".partial-" + Environment.ProcessId + "-" + Environment.CurrentManagedThreadId;
            File.WriteAllBytes(temporary, MemoryMarshal.AsBytes(features.AsSpan()).ToArray());
            File.Move(temporary, path, overwrite: true);
        }

        /// <summary>The cache folder of one base model: its file's content and the preprocessing the features were computed with.</summary>
        static string CacheKey(string baseSha256, PreprocessingInfo preprocessing)
            => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(baseSha256 + "|" + preprocessing + "|views v2"))).Substring(0, 24);

        static string Sha256Of(string path)
        {
            using var stream = File.OpenRead(path);
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        }

        /// <summary>The default cache: $XDG_CACHE_HOME/effnet/features, else ~/.cache/effnet/features.</summary>
        public static string DefaultCacheFolder()
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(root, "effnet", "features");
        }

        public void Dispose() => _model.Dispose();
    }
}
