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

        /// <summary>The middle value (the upper one of an even count).</summary>
        public static double Median(IEnumerable<double> values)
        {
            double[] sorted = values.OrderBy(v => v).ToArray();
            return sorted[sorted.Length / 2];
        }
    }
}
