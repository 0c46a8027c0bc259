using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace EffNet.Bench
{
    /// <summary>One engine's median latency for one model and thread count, as `compare` measured it.</summary>
    public sealed record LatencyRow(string Model, int Resolution, int Threads, string Engine, double MedianMs, int Runs);

    /// <summary>
    /// The medians of `compare` as CSV (model,resolution,threads,engine,median_ms,runs), the input of `plot`.
    /// Numbers are written and read in the invariant culture so a file made on one machine plots on any other.
    /// </summary>
    public sealed class LatencyCsv : IDisposable
    {
        static readonly string[] Columns = { "model", "resolution", "threads", "engine", "median_ms", "runs" };
        readonly StreamWriter _writer;

        public LatencyCsv(string path)
        {
            string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (folder != null) Directory.CreateDirectory(folder);
            _writer = new StreamWriter(path, append: false);
            _writer.WriteLine(string.Join(',', Columns));
            _writer.Flush();
        }

        /// <summary>Appends one row and flushes, so the rows of a long run (B7 takes minutes) survive an interrupted run.</summary>
        public void Add(LatencyRow row)
        {
            _writer.WriteLine(string.Join(',',
                row.Model,
                row.Resolution.ToString(CultureInfo.InvariantCulture),
                row.Threads.ToString(CultureInfo.InvariantCulture),
                row.Engine,
                row.MedianMs.ToString("F3", CultureInfo.InvariantCulture),
                row.Runs.ToString(CultureInfo.InvariantCulture)));
            _writer.Flush();
        }

        public void Dispose() => _writer.Dispose();

        /// <summary>Reads the rows by column name, so added columns or reordered ones do not break older readers.</summary>
        public static List<LatencyRow> Read(string path)
        {
            string[] lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToArray();
            if (lines.Length == 0) throw new FormatException($"{path} is empty: expected a header line `{string.Join(',', Columns)}`.");
            string[] header = lines[0].Split(',').Select(h => h.Trim()).ToArray();
            int Column(string name)
            {
                int index = Array.IndexOf(header, name);
                if (index < 0) throw new FormatException($"{path}: no `{name}` column in the header `{lines[0]}`.");
                return index;
            }
            int model = Column("model"), resolution = Column("resolution"), threads = Column("threads"),
                engine = Column("engine"), median = Column("median_ms");
            int runs = Array.IndexOf(header, "runs");   // optional: a hand-written file may leave it out

            var rows = new List<LatencyRow>();
            for (int i = 1; i < lines.Length; i++)
            {
                string[] cells = lines[i].Split(',').Select(c => c.Trim()).ToArray();
                if (cells.Length < header.Length)
                    throw new FormatException($"{path}:{i + 1}: {cells.Length} cells, the header has {header.Length}.");
                rows.Add(new LatencyRow(
                    cells[model],
                    int.Parse(cells[resolution], CultureInfo.InvariantCulture),
                    int.Parse(cells[threads], CultureInfo.InvariantCulture),
                    cells[engine],
                    double.Parse(cells[median], CultureInfo.InvariantCulture),
                    runs >= 0 ? int.Parse(cells[runs], CultureInfo.InvariantCulture) : 0));
            }
            return rows;
        }
    }
}
