using System;

namespace EffNet.Threading
{
    /// <summary>
    /// One channel-sum vector per worker thread, so the threads of a region never write the same sums; added up after the
    /// region. The vectors grow once to the widest layer, then are reused: steady-state inferences allocate nothing.
    /// </summary>
    sealed class PerWorkerSums
    {
        float[][] _sums = Array.Empty<float[]>();

        /// <summary>Zeroes the first <paramref name="channels"/> sums of every thread's vector.</summary>
        public void Prepare(int threads, int channels)
        {
            if (_sums.Length < threads || _sums[0].Length < channels)
            {
                _sums = new float[threads][];
                for (int i = 0; i < threads; i++) _sums[i] = new float[channels];
            }
            foreach (float[] partial in _sums) Array.Clear(partial, 0, channels);
        }

        public float[] Of(int worker) => _sums[worker];

        public unsafe void AddTo(float* sums, int channels)
        {
            foreach (float[] partial in _sums)
                for (int c = 0; c < channels; c++) sums[c] += partial[c];
        }
    }
}
