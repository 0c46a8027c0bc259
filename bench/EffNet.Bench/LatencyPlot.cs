using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ScottPlot;

namespace EffNet.Bench
{
    /// <summary>
    /// Renders the medians of one or more `compare --csv` files (comma-separated: B7 usually gets a run of its own with
    /// fewer rounds) as a PNG: one group of bars per model and thread count, one bar per
    /// engine, on a log-scaled latency axis (B0 takes milliseconds and B7 hundreds of them: on a linear axis B0's bars
    /// would be a few pixels tall).
    /// </summary>
    static class LatencyPlot
    {
        const double BarWidth = 0.38;
        const double ModelGap = 0.6;   // extra space between the groups of two different models

        public static int Run(string csvPaths, string outPath, int width, int height)
        {
            var rows = new List<LatencyRow>();
            try
            {
                foreach (string path in csvPaths.Split(',', StringSplitOptions.RemoveEmptyEntries))
                    rows.AddRange(LatencyCsv.Read(path));
            }
            catch (Exception e) when (e is FormatException or IOException)
            {
                Console.Error.WriteLine(e.Message);
                return 1;
            }
            if (rows.Count == 0)
            {
                Console.Error.WriteLine($"{csvPaths}: no rows to plot.");
                return 1;
            }
            UseInstalledFonts();

            // Engines keep the order of their first row (compare writes EffNet first); groups go by model, then threads.
            string[] engines = rows.Select(r => r.Engine).Distinct().ToArray();
            var groups = rows
                .GroupBy(r => (r.Model, r.Resolution, r.Threads))
                .OrderBy(g => ModelOrder(g.Key.Model)).ThenBy(g => g.Key.Resolution).ThenBy(g => g.Key.Threads)
                .ToArray();

            var plot = new Plot();
            IPalette palette = new ScottPlot.Palettes.Category10();
            var bars = new List<Bar>();
            var tickPositions = new List<double>();
            var tickLabels = new List<string>();
            double position = 0, highest = 0;
            string? previousModel = null;
            foreach (var group in groups)
            {
                if (previousModel != null && previousModel != group.Key.Model) position += ModelGap;
                previousModel = group.Key.Model;
                double first = position - BarWidth * (engines.Length - 1) / 2;
                for (int e = 0; e < engines.Length; e++)
                {
                    LatencyRow? row = group.FirstOrDefault(r => r.Engine == engines[e]);
                    if (row == null) continue;   // a group may lack an engine, e.g. a failed agreement check
                    highest = Math.Max(highest, row.MedianMs);
                    bars.Add(new Bar
                    {
                        Position = first + e * BarWidth,
                        // The axis shows log10(ms); bars grow from 1 ms (log10 = 0) so their heights compare as ratios.
                        Value = Math.Log10(row.MedianMs),
                        ValueBase = 0,
                        Size = BarWidth * 0.92,
                        FillColor = palette.GetColor(e),
                        Label = FormatMs(row.MedianMs),
                    });
                }
                tickPositions.Add(position);
                string label = $"{group.Key.Model} @ {group.Key.Resolution}\n{group.Key.Threads} thread{(group.Key.Threads == 1 ? "" : "s")}";
                // With two engines the figure the docs quote is their ratio: print it under the pair.
                if (engines.Length == 2 && group.FirstOrDefault(r => r.Engine == engines[0]) is { } a && group.FirstOrDefault(r => r.Engine == engines[1]) is { } b)
                    label += $"\nratio {a.MedianMs / b.MedianMs:F2}";
                tickLabels.Add(label);
                position += 1;
            }

            var barPlot = plot.Add.Bars(bars);
            barPlot.ValueLabelStyle.FontSize = 12;

            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(tickPositions.ToArray(), tickLabels.ToArray());
            plot.Axes.Bottom.MajorTickStyle.Length = 0;
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = y => Math.Pow(10, y).ToString("G4"),   // the major ticks are whole decades: 1, 10, 100
            };
            plot.Grid.MajorLineColor = Colors.Black.WithAlpha(0.15);
            plot.Grid.MinorLineColor = Colors.Black.WithAlpha(0.06);
            plot.Grid.MinorLineWidth = 1;
            plot.Grid.XAxisStyle.IsVisible = false;   // vertical lines would cut through the groups

            // Room above the tallest bar for its value label (a factor of 2 on the log axis).
            plot.Axes.SetLimits(-0.6, position - 0.4, 0, Math.Log10(highest) + 0.3);
            plot.Title("EfficientNet latency, batch 1 (median; lower is better)");
            plot.YLabel("median latency per image (ms, log scale)");
            plot.XLabel(engines.Length == 2
                ? $"model @ input resolution, intra-op threads; ratio = {engines[0]} / {engines[1]}"
                : "model @ input resolution, intra-op threads");

            plot.Legend.ManualItems.AddRange(engines.Select((engine, e) => new LegendItem { LabelText = engine, FillColor = palette.GetColor(e) }));
            plot.Legend.Alignment = Alignment.UpperLeft;
            plot.ShowLegend();

            string? folder = Path.GetDirectoryName(Path.GetFullPath(outPath));
            if (folder != null) Directory.CreateDirectory(folder);
            plot.SavePng(outPath, width, height);
            Console.WriteLine($"{outPath}: {groups.Length} groups x {engines.Length} engines from {csvPaths}");
            return 0;
        }

        /// <summary>B0 before B3 before B7 (and B10, should one appear, after B7): by the number after the B.</summary>
        static int ModelOrder(string model) =>
            model.Length > 1 && int.TryParse(model.AsSpan(1), out int phi) ? phi : int.MaxValue;

        static string FormatMs(double ms) => ms >= 100 ? ms.ToString("F0") : ms.ToString("F2");

        /// <summary>
        /// The Linux SkiaSharp assets used here carry no fontconfig: asked for the default family they take whichever font
        /// file they scan first (a serif one on Debian). Registering DejaVu Sans (Debian's fonts-dejavu-core) by its file
        /// gives the same sans-serif text on every such machine.
        /// </summary>
        static void UseInstalledFonts()
        {
            const string Folder = "/usr/share/fonts/truetype/dejavu";
            string regular = Path.Combine(Folder, "DejaVuSans.ttf"), bold = Path.Combine(Folder, "DejaVuSans-Bold.ttf");
            if (!File.Exists(regular)) return;   // elsewhere (Windows, macOS) SkiaSharp finds system fonts by name
            Fonts.AddFontFile("DejaVu Sans", regular, bold: false, italic: false);
            if (File.Exists(bold)) Fonts.AddFontFile("DejaVu Sans", bold, bold: true, italic: false);
            Fonts.Default = "DejaVu Sans";
        }
    }
}
