using System;

namespace EffNet.Threading
{
    /// <summary>
    /// One channel-sum vector per chunk of a parallel region, added up in chunk order afterwards: no two threads write the
    /// same sums, and the total does not depend on which thread ran which chunk, so repeated runs are bit-identical. The
    /// vectors grow once to the widest layer, then are reused: steady-state inferences allocate nothing.
    /// </summary>
    sealed class ChunkSums
    {
        float[][] _sums = Array.Empty<float[]>();
        int _chunks, _chunkSize;

        /// <summary>Zeroes the sums of every chunk of a region over <paramref name="parts"/> parts.</summary>
        public void Prepare(WorkerPool workers, int parts, int grain, int channels)
        {
            _chunkSize = workers.ChunkSize(parts, grain);
            _chunks = (parts + _chunkSize - 1) / _chunkSize;
            if (_sums.Length < _chunks || _sums[0].Length < channels)
            {
                int width = Math.Max(channels, _sums.Length > 0 ? _sums[0].Length : 0);
                _sums = new float[Math.Max(_chunks, _sums.Length)][];
                for (int i = 0; i < _sums.Length; i++) _sums[i] = new float[width];
            }
            for (int i = 0; i < _chunks; i++) Array.Clear(_sums[i], 0, channels);
        }

        /// <summary>The sums of the chunk that starts at part <paramref name="start"/>.</summary>
        public float[] Of(int start) => _sums[start / _chunkSize];

        public unsafe void AddTo(float* sums, int channels)
        {
            for (int i = 0; i < _chunks; i++)
            {
                float[] partial = _sums[i];
                for (int c = 0; c < channels; c++) sums[c] += partial[c];
            }
        }
    }
}
