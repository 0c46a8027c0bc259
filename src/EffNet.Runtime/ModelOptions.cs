using System;

namespace EffNet
{
    /// <summary>How a loaded model runs. Pass to the generated <c>Load(path, options)</c>.</summary>
    public sealed record ModelOptions
    {
        int _threads = Environment.ProcessorCount;

        /// <summary>
        /// Threads one inference uses: the calling thread plus <c>Threads - 1</c> workers the instance owns for its
        /// lifetime. Default: every core (<see cref="Environment.ProcessorCount"/>). Use 1 to keep inference on the
        /// calling thread, e.g. when running one instance per core.
        /// </summary>
        public int Threads
        {
            get => _threads;
            init => _threads = value is >= 1 and <= 256
                ? value
                : throw new ArgumentOutOfRangeException(nameof(Threads), value, "Threads must be 1..256 (1 runs on the calling thread only).");
        }

        public static ModelOptions Default { get; } = new ModelOptions();
    }
}
