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
        /// calling thread, e.g. when running one instance per core. While other instances of the process are running
        /// parallel work on every core, an inference's parallel steps run on its calling thread alone instead of
        /// oversubscribing the cores (the results are the same bits either way).
        /// </summary>
        public int Threads
        {
            get => _threads;
            init => _threads = value is >= 1 and <= 256
                ? value
                : throw new ArgumentOutOfRangeException(nameof(Threads), value, "Threads must be 1..256 (1 runs on the calling thread only).");
        }

        /// <summary>The default <see cref="WorkerSpin"/>: 1 ms.</summary>
        public static readonly TimeSpan DefaultWorkerSpin = TimeSpan.FromMilliseconds(1);

        TimeSpan _workerSpin = DefaultWorkerSpin;

        /// <summary>
        /// How long a worker thread keeps its core, spinning, after a parallel region before it sleeps. The regions of one
        /// inference follow each other within microseconds and waking a sleeping thread costs tens of them, so spinning
        /// keeps inference fast; after the last inference the workers stop using CPU within this time. Default 1 ms;
        /// <see cref="TimeSpan.Zero"/> makes them sleep as soon as a region ends (slower inference, no spinning at all).
        /// At most 1 s.
        /// </summary>
        public TimeSpan WorkerSpin
        {
            get => _workerSpin;
            init => _workerSpin = value >= TimeSpan.Zero && value <= TimeSpan.FromSeconds(1)
                ? value
                : throw new ArgumentOutOfRangeException(nameof(WorkerSpin), value, "WorkerSpin must be 0..1 s (0: workers sleep as soon as a region ends).");
        }

        public static ModelOptions Default { get; } = new ModelOptions();
    }
}
