using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using EffNet.Imaging;

namespace EffNet.Cli.Classify
{
    /// <summary>classify's output formats; results arrive one at a time, in input order, and are written as they come.</summary>
    enum ResultFormat { Text, Json, Jsonl, Csv }

    /// <summary>Writes successful results to standard output in one format (failures go to standard error, not here).</summary>
    abstract class ResultWriter(TextWriter output, ClassLabels labels)
    {
        protected TextWriter Output { get; } = output;
        protected ClassLabels Labels { get; } = labels;

        public static ResultWriter For(ResultFormat format, TextWriter output, ClassLabels labels) => format switch
        {
            ResultFormat.Text => new TextResults(output, labels),
            ResultFormat.Json => new JsonResults(output, labels, asArray: true),
            ResultFormat.Jsonl => new JsonResults(output, labels, asArray: false),
            ResultFormat.Csv => new CsvResults(output, labels),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };

        public virtual void Begin() { }
        public abstract void Write(string path, ClassProbability[] top);
        public virtual void End() { }
    }

    /// <summary>The path, then one indented line per class: rank, probability, label, index.</summary>
    sealed class TextResults(TextWriter output, ClassLabels labels) : ResultWriter(output, labels)
    {
        public override void Write(string path, ClassProbability[] top)
        {
            Output.WriteLine(path);
            for (int i = 0; i < top.Length; i++)
                Output.WriteLine(string.Format(CultureInfo.InvariantCulture, "  {0}. {1,7:P2}  {2} ({3})",
                    i + 1, top[i].Probability, Labels.Of(top[i].Index), top[i].Index));
        }
    }

    /// <summary>
    /// One object per image, <c>{"image": path, "top": [{"index", "label", "probability"}, ...]}</c>: a line each (JSON
    /// Lines), or the same lines as the elements of one array. Probabilities are the float32 values, shortest round-trip.
    /// </summary>
    sealed class JsonResults(TextWriter output, ClassLabels labels, bool asArray) : ResultWriter(output, labels)
    {
        readonly System.Buffers.ArrayBufferWriter<byte> _buffer = new();
        bool _first = true;

        public override void Begin()
        {
            if (asArray) Output.WriteLine("[");
        }

        public override void Write(string path, ClassProbability[] top)
        {
            _buffer.ResetWrittenCount();
            using (var writer = new Utf8JsonWriter(_buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("image", path);
                writer.WriteStartArray("top");
                foreach (ClassProbability p in top)
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("index", p.Index);
                    writer.WriteString("label", Labels.Of(p.Index));
                    writer.WriteNumber("probability", p.Probability);
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            if (asArray && !_first) Output.WriteLine(",");
            Output.Write(Encoding.UTF8.GetString(_buffer.WrittenSpan));
            if (!asArray) Output.WriteLine();
            _first = false;
        }

        public override void End()
        {
            if (!asArray) return;
            if (!_first) Output.WriteLine();
            Output.WriteLine("]");
        }
    }

    /// <summary>RFC 4180 CSV with a header: one row per image and rank (path, rank, index, label, probability).</summary>
    sealed class CsvResults(TextWriter output, ClassLabels labels) : ResultWriter(output, labels)
    {
        public override void Begin() => Output.WriteLine("path,rank,index,label,probability");

        public override void Write(string path, ClassProbability[] top)
        {
            for (int i = 0; i < top.Length; i++)
                Output.WriteLine(string.Join(",", Field(path), (i + 1).ToString(CultureInfo.InvariantCulture),
                    top[i].Index.ToString(CultureInfo.InvariantCulture), Field(Labels.Of(top[i].Index)),
                    top[i].Probability.ToString(CultureInfo.InvariantCulture)));
        }

        /// <summary>Quoted when it holds a comma, a quote or a line break; quotes doubled.</summary>
        static string Field(string text) => text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : "\"" + text.Replace("\"", "\"\"") + "\"";
    }

    /// <summary>The one place a class index becomes the label printed for it: the blob's labels, else ImageNet's for 1000 classes, else "class N".</summary>
    sealed record ClassLabels(System.Collections.Generic.IReadOnlyList<string>? FromBlob, int Classes)
    {
        public string Of(int index)
            => FromBlob is { } labels ? labels[index]
             : Classes == ImageNetClasses.Count ? ImageNetClasses.Names[index]
             : "class " + index.ToString(CultureInfo.InvariantCulture);
    }
}
