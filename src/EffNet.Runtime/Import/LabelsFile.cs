using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;

namespace EffNet.Import
{
    /// <summary>
    /// Reads class labels for <see cref="ImportMetadata.Labels"/>: a UTF-8 text file with one label per line (a byte order
    /// mark, CRLF line ends and trailing empty lines are fine), or a JSON array of strings. Each label is trimmed and must
    /// then obey <see cref="WeightBlobMetadata.LabelProblem"/>.
    /// </summary>
    public static class LabelsFile
    {
        /// <summary>A labels file larger than this is refused before it is read (100,000 classes of 100 bytes fit).</summary>
        public const int MaxFileBytes = 16 * 1024 * 1024;

        /// <exception cref="FileNotFoundException">The file does not exist.</exception>
        /// <exception cref="WeightFormatException">The file is not a list of labels; the message names the line and the fix.</exception>
        public static string[] Read(string path)
        {
            ArgumentNullException.ThrowIfNull(path);
            if (!File.Exists(path))
                throw new FileNotFoundException($"labels file '{path}' does not exist.", path);
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (file.CanSeek && file.Length > MaxFileBytes)
                throw new WeightFormatException(path, $"the labels file is {file.Length:N0} bytes; at most {MaxFileBytes:N0} are read. Give one short label per class.");
            var buffer = new MemoryStream();
            file.CopyTo(buffer);
            if (buffer.Length > MaxFileBytes)
                throw new WeightFormatException(path, $"the labels file is more than {MaxFileBytes:N0} bytes. Give one short label per class.");
            return Parse(buffer.ToArray(), path);
        }

        /// <summary>Parses the bytes of a labels file; <paramref name="name"/> labels errors.</summary>
        public static string[] Parse(ReadOnlySpan<byte> bytes, string? name = null)
        {
            ReadOnlySpan<byte> bom = [0xEF, 0xBB, 0xBF];
            if (bytes.StartsWith(bom)) bytes = bytes[3..];
            string text;
            try
            {
                text = new UTF8Encoding(false, true).GetString(bytes);
            }
            catch (DecoderFallbackException e)
            {
                throw new WeightFormatException(name, $"line {LineOf(bytes, Math.Max(0, e.Index))} is not valid UTF-8. Save the file as UTF-8.");
            }
            List<string> labels = text.TrimStart().StartsWith('[') ? FromJson(bytes, name) : FromLines(text, name);
            if (labels.Count == 0)
                throw new WeightFormatException(name, "the labels file holds no labels. Write one label per line, in class-index order, or a JSON array of strings.");
            return labels.ToArray();
        }

        static List<string> FromLines(string text, string? name)
        {
            string[] lines = text.Split('\n');
            int last = lines.Length;
            while (last > 0 && lines[last - 1].Trim().Length == 0) last--; // trailing empty lines
            var labels = new List<string>(last);
            for (int i = 0; i < last; i++)
                labels.Add(Checked(lines[i].TrimEnd('\r').Trim(), name, $"line {i + 1}",
                    "write one label per line, in class-index order, with no empty line between labels"));
            return labels;
        }

        static List<string> FromJson(ReadOnlySpan<byte> bytes, string? name)
        {
            var labels = new List<string>();
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 2 });
            try
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                    throw new WeightFormatException(name, "line 1 does not start a JSON array. Write [\"label 0\", \"label 1\", ...].");
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    string where = $"line {LineOf(bytes, (int)reader.TokenStartIndex)} (element {labels.Count})";
                    if (reader.TokenType != JsonTokenType.String)
                        throw new WeightFormatException(name, $"{where} is {Describe(reader.TokenType)}, not a string. Every element must be a label in quotes.");
                    labels.Add(Checked(reader.GetString()!.Trim(), name, where, "give every class a label"));
                }
                if (reader.Read())
                    throw new WeightFormatException(name, $"line {LineOf(bytes, (int)reader.TokenStartIndex)} follows the JSON array. Remove what comes after the closing ']'.");
            }
            catch (JsonException e)
            {
                throw new WeightFormatException(name, $"line {e.LineNumber + 1} is not valid JSON ({e.Message.Split(" LineNumber")[0].TrimEnd('.')}). Write a JSON array of strings, or one label per line.");
            }
            return labels;
        }

        static string Describe(JsonTokenType token) => token switch
        {
            JsonTokenType.StartArray => "an array",
            JsonTokenType.StartObject => "an object",
            JsonTokenType.Number => "a number",
            JsonTokenType.True or JsonTokenType.False => "true or false",
            JsonTokenType.Null => "null",
            _ => token.ToString(),
        };

        static string Checked(string label, string? name, string where, string fix)
            => WeightBlobMetadata.LabelProblem(label) is string problem
                ? throw new WeightFormatException(name, $"{where} cannot be a label: {problem}; {fix}.")
                : label;

        static int LineOf(ReadOnlySpan<byte> bytes, int offset) => bytes[..Math.Min(offset, bytes.Length)].Count((byte)'\n') + 1;
    }
}
