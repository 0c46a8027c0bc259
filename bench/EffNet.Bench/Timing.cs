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
        /// One untimed call, then <paramref name="count"/> timed ones, in ms. Engines' pools spin for a while after a run, and a
        /// spinning pool takes a core from the engine timed next: the untimed call lets the other engine's threads settle.
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
            var timesA = new List<double>();
            var timesB = new List<double>();
            for (int i = 0; i < 3; i++) { a(); b(); }
            for (int round = 0; round < rounds; round++)
            {
                if (round % 2 == 0) { timesA.AddRange(Samples(a, runsPerRound)); timesB.AddRange(Samples(b, runsPerRound)); }
                else { timesB.AddRange(Samples(b, runsPerRound)); timesA.AddRange(Samples(a, runsPerRound)); }
            }
            return (timesA, timesB);
        }

        /// <summary>The one-minute load average (Linux), printed with results so a busy machine shows.</summary>
        public static string LoadAverage()
        {
            try { return System.IO.File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
            catch (System.IO.IOException) { return "unknown"; }
        }

        /// <summary>The middle value (the upper one of an even count).</summary>
        public static double Median(IEnumerable<double> values)
        {
            double[] sorted = values.OrderBy(v => v).ToArray();
            return sorted[sorted.Length / 2];
        }
    }
}
