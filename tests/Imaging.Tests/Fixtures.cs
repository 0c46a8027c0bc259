using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace EffNet.Imaging.Tests
{
    /// <summary>The files tools/make_preprocessing_golden.py wrote with the real torchvision 0.14 and Pillow 9.4.</summary>
    static class Fixtures
    {
        public static string Directory => Path.Combine(AppContext.BaseDirectory, "Fixtures");

        public static string PathOf(string file) => Path.Combine(Directory, file);

        public static byte[] Bytes(string file) => File.ReadAllBytes(PathOf(file));

        static readonly Lazy<Manifest> s_manifest = new(() =>
            JsonSerializer.Deserialize<Manifest>(File.ReadAllText(PathOf("manifest.json")),
                new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })
            ?? throw new InvalidDataException("manifest.json is empty."));

        public static Manifest Manifest => s_manifest.Value;

        public static GoldenCase Case(string image, string preset) =>
            Manifest.Cases.Single(c => c.Image == image && c.Preset == preset);

        /// <summary>A little-endian float32 .npy file (optionally gzip-compressed): its shape and data.</summary>
        public static (int[] Shape, float[] Data) ReadNpy(string file)
        {
            using Stream raw = File.OpenRead(PathOf(file));
            using Stream stream = file.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(raw, CompressionMode.Decompress) : raw;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            byte[] bytes = buffer.ToArray();

            if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
                throw new InvalidDataException($"{file} is not a .npy file.");
            int major = bytes[6];
            int headerLength = major == 1 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToInt32(bytes, 8);
            int dataStart = (major == 1 ? 10 : 12) + headerLength;
            string header = Encoding.ASCII.GetString(bytes, major == 1 ? 10 : 12, headerLength);
            if (!header.Contains("'descr': '<f4'") || header.Contains("'fortran_order': True"))
                throw new InvalidDataException($"{file}: only C-ordered little-endian float32 is read here ({header.Trim()}).");
            int[] shape = Regex.Match(header, @"'shape': \(([^)]*)\)").Groups[1].Value
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
            var data = new float[shape.Aggregate(1, (n, d) => n * d)];
            Buffer.BlockCopy(bytes, dataStart, data, 0, data.Length * sizeof(float));
            return (shape, data);
        }
    }

    public sealed class Manifest
    {
        public string Torchvision { get; init; } = "";
        public string Pillow { get; init; } = "";
        public float[] Mean { get; init; } = [];
        public float[] Std { get; init; } = [];
        public GoldenCase[] Cases { get; init; } = [];
    }

    /// <summary>One image through one torchvision preset.</summary>
    public sealed class GoldenCase
    {
        public string Image { get; init; } = "";
        public string PilMode { get; init; } = "";
        public int Width { get; init; }
        public int Height { get; init; }
        public string Preset { get; init; } = "";
        public int Resize { get; init; }
        public int Crop { get; init; }
        public string Interpolation { get; init; } = "";
        public string Tensor { get; init; } = "";

        public Preprocessing Preprocessing => new(Resize, Crop, Interpolation switch
        {
            "bicubic" => ResizeInterpolation.Bicubic,
            "bilinear" => ResizeInterpolation.Bilinear,
            _ => throw new InvalidDataException($"Unexpected interpolation '{Interpolation}'."),
        });

        public override string ToString() => $"{Image} {Preset}";
    }
}
