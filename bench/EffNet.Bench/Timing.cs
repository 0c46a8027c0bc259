using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;

namespace EffNet.Bench
{
    static class Timing
    {
        /// <summary>
        /// The fastest of <paramref name="runs"/> timed calls after <paramref name="warmups"/> untimed ones, in ms;
        /// <paramref name="beforeEach"/>, untimed, runs before every timed call.
        /// </summary>
        public static double BestOf(Action action, int runs, int warmups = 1, Action? beforeEach = null)
        {
            for (int i = 0; i < warmups; i++) action();
            double best = double.MaxValue;
            for (int i = 0; i < runs; i++)
            {
                beforeEach?.Invoke();
                long start = Stopwatch.GetTimestamp();
                action();
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            return best;
        }

        /// <summary>
        /// One untimed call, then <paramref name="count"/> timed ones, in ms.
        /// </summary>
        public static List<double> Samples(Action run, int count)
        {
            run();
            var times = new List<double>(count);
            for (int i = 0; i < count; i++)
            {
                long start = Stopwatch.GetTimestamp();
                run();
                times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            return times;
        }

        /// <summary>
        /// Two engines timed alone in alternating rounds (A then B, B then A, ...) so that drift hits both, after three
        /// untimed runs of each: <paramref name="rounds"/> x <paramref name="runsPerRound"/> times of each, in ms.
        /// </summary>
        public static (List<double> A, List<double> B) Alternate(Action a, Action b, int rounds, int runsPerRound)
        {
            List<double>[] times = Rotate(new[] { a, b }, rounds, runsPerRound);
            return (times[0], times[1]);
        }

        /// <summary>
        /// Several engines (or one engine at several thread counts) timed alone in the same rounds, each round in the
        /// order of the last rotated by one, after three untimed runs of each: ratios between any two come from the same
        /// stretch of the machine's time, which on a shared host drifts by tens of percent within minutes.
        /// </summary>
        public static List<double>[] Rotate(Action[] engines, int rounds, int runsPerRound)
        {
            var times = engines.Select(_ => new List<double>()).ToArray();
            for (int i = 0; i < 3; i++)
                foreach (Action engine in engines) engine();
            for (int round = 0; round < rounds; round++)
                for (int k = 0; k < engines.Length; k++)
                {
                    int e = (round + k) % engines.Length;
                    times[e].AddRange(Alone(engines[e], runsPerRound));
                }
            return times;
        }

        /// <summary>
        /// Waits (at most <see cref="SettleLimit"/>) until the process's threads are quiet: less than 0.3 ms of CPU in 10 ms.
        /// ONNX Runtime's pool keeps spinning for a long while after a run (tens of ms of CPU per 100 ms); timing the other
        /// engine before it stops would hand that engine one core fewer. The time waited adds to <see cref="SettledFor"/>.
        /// </summary>
        public static void Settle()
        {
            using var process = Process.GetCurrentProcess();
            long start = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(start) < SettleLimit)
            {
                process.Refresh();
                TimeSpan before = process.TotalProcessorTime;
                System.Threading.Thread.Sleep(10);
                process.Refresh();
                if ((process.TotalProcessorTime - before).TotalMilliseconds < 0.3)
                    break;
            }
            TimeSpan waited = Stopwatch.GetElapsedTime(start);
            SettledFor += waited;
            if (waited >= SettleLimit) SettleTimeouts++;
        }

        public static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(2);

        /// <summary>Time spent in <see cref="Settle"/>, and how often it gave up waiting (printed with results).</summary>
        public static TimeSpan SettledFor { get; private set; }
        public static int SettleTimeouts { get; private set; }

        public static string SettleReport()
            => $"waited {SettledFor.TotalSeconds:F1} s in all for the process's threads to be quiet before timing an engine" +
               (SettleTimeouts > 0 ? $" ({SettleTimeouts} times still busy after {SettleLimit.TotalSeconds:F0} s)" : "");

        /// <summary>The one-minute load average (Linux), printed with results so a busy machine shows.</summary>
        public static string LoadAverage()
        {
            try { return System.IO.File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
            catch (System.IO.IOException) { return "unknown"; }
        }

        // Each engine timed alone: the other's pool, still spinning from its last run, would take a core from it.
        static List<double> Alone(Action run, int count)
        {
            Settle();
            return Samples(run, count);
        }

        /// <summary>The middle value (the upper one of an even count).</summary>
        public static double Median(IEnumerable<double> values)
        {
            double[] sorted = values.OrderBy(v => v).ToArray();
            return sorted[sorted.Length / 2];
        }
    }
}
