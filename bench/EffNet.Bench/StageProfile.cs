using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;

namespace EffNet.Bench
{
    /// <summary>Where our time goes: the median time of each torchvision stage, from the traced run's stage boundaries.</summary>
    static class StageProfile
    {
        public static int Run(int phi, int runs, int threads)
        {
            var model = new BenchModel(phi.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using IEfficientNetModel ours = model.LoadOurs(threads);
            var logits = new float[1000];
            for (int i = 0; i < 5; i++) ours.Run(model.Input, logits);

            var times = new Dictionary<string, List<double>>();
            var totals = new List<double>();
            for (int r = 0; r < runs; r++)
            {
                long start = Stopwatch.GetTimestamp(), last = start;
                ours.RunTraced(model.Input, logits, (stage, _, _, _, _) =>
                {
                    long now = Stopwatch.GetTimestamp();
                    if (!times.TryGetValue(stage, out var list)) times[stage] = list = new List<double>();
                    list.Add(Stopwatch.GetElapsedTime(last, now).TotalMilliseconds);
                    last = Stopwatch.GetTimestamp();
                });
                totals.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            Console.WriteLine($"{model.Name}: median per stage over {runs} traced runs (stage = work since the previous stage)");
            foreach (var (stage, list) in times)
                Console.WriteLine($"  {stage,-11} {Timing.Median(list),7:F2} ms");
            Console.WriteLine($"  {"total",-11} {Timing.Median(totals),7:F2} ms (includes the classifier)");
            return 0;
        }

    }
}
