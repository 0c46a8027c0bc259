using System;

namespace EffNet.Quantization
{
    /// <summary>
    /// The values one int8 layer reads during calibration: exact minimum and maximum, and histograms of the positive
    /// values and of the negative values' magnitudes, so each tail can be clipped at a percentile of its own side. A
    /// histogram's range starts at the first value seen and doubles (merging pairs of bins) when a larger one arrives, so
    /// nothing is read twice.
    /// </summary>
    public sealed class ActivationHistogram
    {
        const int Bins = 2048;
        readonly Side _positive = new Side(), _negative = new Side();

        public float Min { get; private set; } = float.PositiveInfinity;
        public float Max { get; private set; } = float.NegativeInfinity;
        public long Count { get; private set; }

        /// <summary>Adds <paramref name="values"/>, each multiplied by <paramref name="channelScale"/>[its channel] when that is not empty.</summary>
        public void Add(ReadOnlySpan<float> values, int channels, ReadOnlySpan<float> channelScale)
        {
            for (int start = 0; start < values.Length; start += channels) // one pixel's channels at a time
                for (int c = 0; c < channels; c++)
                    Add(channelScale.IsEmpty ? values[start + c] : values[start + c] * channelScale[c]);
            Count += values.Length;
        }

        void Add(float v)
        {
            if (!float.IsFinite(v))
                throw new InvalidOperationException($"Calibration met {v} in a layer's input: the float32 model itself gives non-finite activations on this image.");
            if (v < Min) Min = v;
            if (v > Max) Max = v;
            if (v > 0) _positive.Add(v);
            else if (v < 0) _negative.Add(-v);
        }

        /// <summary>
        /// The range [low, high] holding all but the outer (100 - <paramref name="percentile"/>) % of each side's values,
        /// widened to include 0 (so 0 is a level, as the zero padding and ReLU6 need). 100 gives the exact min and max.
        /// </summary>
        public (float Low, float High) Range(double percentile)
        {
            if (Count == 0) throw new InvalidOperationException("No calibration values were seen for this layer.");
            // A bin's upper edge can pass the largest value seen: never widen past the exact extremes.
            float high = percentile >= 100 ? Math.Max(Max, 0) : Math.Min(_positive.Percentile(percentile), Math.Max(Max, 0));
            float low = percentile >= 100 ? Math.Min(Min, 0) : Math.Max(-_negative.Percentile(percentile), Math.Min(Min, 0));
            return (low, high);
        }

        sealed class Side
        {
            readonly long[] _counts = new long[Bins];
            float _range; // bins cover (0, _range]
            long _total;

            public void Add(float v)
            {
                if (_range == 0) _range = v;
                while (v > _range) Double();
                int bin = Math.Min(Bins - 1, (int)(v / _range * Bins));
                _counts[bin]++;
                _total++;
            }

            void Double()
            {
                for (int i = 0; i < Bins / 2; i++)
                    _counts[i] = _counts[2 * i] + _counts[2 * i + 1];
                Array.Clear(_counts, Bins / 2, Bins / 2);
                _range *= 2;
            }

            // The upper edge of the bin where the count reaches percentile % of this side's values.
            public float Percentile(double percentile)
            {
                if (_total == 0) return 0;
                double wanted = _total * percentile / 100;
                long seen = 0;
                for (int i = 0; i < Bins; i++)
                {
                    seen += _counts[i];
                    if (seen >= wanted) return _range * (i + 1) / Bins;
                }
                return _range;
            }
        }
    }
}
