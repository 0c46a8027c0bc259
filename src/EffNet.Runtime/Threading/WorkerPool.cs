using System;
using System.Threading;

namespace EffNet.Threading
{
    /// <summary>
    /// A piece of work split into parts; <see cref="Execute"/> runs parts [start, end) on thread <c>worker</c>. A region
    /// calls it once per chunk, so one thread may run several chunks, one after another.
    /// </summary>
    public interface IParallelJob
    {
        void Execute(int start, int end, int worker);
    }

    /// <summary>
    /// The persistent worker threads of one model instance. In a parallel region the threads (the caller included) claim
    /// contiguous chunks of the parts from a shared counter until none are left, so a thread that is slowed down (another
    /// process on its core, a slower part of the map) takes fewer chunks instead of holding everyone up. The caller never
    /// waits for a worker that has not started: it claims every chunk no worker has, and the region returns when every
    /// claimed chunk is done, so a worker that is descheduled delays at most the chunk it holds. Between regions a worker
    /// spins for <see cref="ModelOptions.WorkerSpin"/> (the next layer usually starts within microseconds), yielding its
    /// core when others want it, and then sleeps on its semaphore, so an idle model costs nothing; nothing is allocated per
    /// region. When the regions of other pools in the process already hold every core (two models running at once, each
    /// with every core), a region runs on its caller alone rather than oversubscribing the cores.
    /// <para>
    /// The threads reference only the pool, never the model that owns it, so a model that is dropped without
    /// <see cref="Dispose"/> is still collected; its finalizer calls <see cref="Stop"/>.
    /// </para>
    /// </summary>
    public sealed class WorkerPool : IDisposable
    {
        readonly Thread[] _threads;
        readonly SemaphoreSlim[] _start; // one per worker: wakes it when it has gone to sleep
        readonly int[] _sleeping;        // 1 while a worker is (about to be) blocked on its semaphore
        readonly long _spinTicks;        // how long a worker spins for the next region before sleeping (Stopwatch ticks)

        // Chunks shrink from about 1 / (HeadChunksPerThread x threads) of a region to 1 / (TailChunksPerThread x threads):
        // the first bound what a descheduled worker holds, the last how long one thread can finish after the other.
        const int HeadChunksPerThread = 4, TailChunksPerThread = 8;

        // The region in progress: its generation in the high 32 bits, the first part no thread has claimed in the low 32.
        // A chunk is claimed with a compare-and-swap on the whole, and a region is closed (its counter set past any part)
        // before the next region's fields are written, so a late worker can never claim a part of a region that has ended:
        // the job fields it read belong to the generation it swapped against.
        long _region;
        const int Closed = int.MaxValue; // the counter of a region that has ended: no part is ever that high
        uint _generation;  // the caller's count of regions; only the caller writes it
        IParallelJob? _job;
        int _parts, _chunk, _largest;
        int _completed;    // parts whose Execute has returned in the current region
        volatile bool _stopping;
        Exception? _failure;

        public WorkerPool(int threads) : this(threads, ModelOptions.DefaultWorkerSpin)
        {
        }

        public WorkerPool(int threads, TimeSpan spin)
        {
            if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "A pool needs at least the calling thread.");
            Threads = threads;
            _spinTicks = (long)(spin.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
            _threads = new Thread[threads - 1];
            _start = new SemaphoreSlim[_threads.Length];
            _sleeping = new int[_threads.Length];
            for (int i = 0; i < _threads.Length; i++)
            {
                _start[i] = new SemaphoreSlim(0);
                int worker = i + 1;
                _threads[i] = new Thread(() => WorkerLoop(worker)) { IsBackground = true, Name = $"EffNet worker {worker}" };
                _threads[i].Start();
            }
        }

        /// <summary>Threads a region uses, the caller included.</summary>
        public int Threads { get; }

        // One reusable job object per kernel kind, so a region allocates nothing.
        internal object? StemJob, PointwiseJob, PointwiseInt8Job, ConvolutionInt8Job, QuantizeJob, DepthwiseJob, ExpandDepthwiseJob, ExpandDepthwiseBandsJob, FullyConnectedJob, WinogradJob;

        /// <summary>
        /// Runs <paramref name="job"/> over <paramref name="parts"/> parts on all threads and waits for them. Each
        /// <see cref="IParallelJob.Execute"/> call gets at least <paramref name="grain"/> parts (fewer only at the end) and
        /// at most <paramref name="largest"/> (whole images of a batch are claimed one at a time, so a slowed thread holds
        /// at most one).
        /// </summary>
        public void Run(IParallelJob job, int parts, int grain = 1, int largest = int.MaxValue)
        {
            if (Threads == 1 || parts < 2)
            {
                job.Execute(0, parts, 0);
                return;
            }
            ObjectDisposedException.ThrowIf(_stopping, this); // its workers are gone: waiting for them would never end
            // Other pools of this process are in regions and the cores are taken: run this region on the caller alone.
            // Woken workers would only share the cores with the other regions' threads, and a region waits for its
            // slowest chunk; the caller alone gives the same bits (no result depends on the split).
            if (Interlocked.Add(ref s_threadsInRegions, Threads) > s_cores)
            {
                Interlocked.Add(ref s_threadsInRegions, 1 - Threads);
                try { job.Execute(0, parts, 0); }
                finally { Interlocked.Decrement(ref s_threadsInRegions); }
                return;
            }
            try { RunOnAll(job, parts, grain, largest); }
            finally { Interlocked.Add(ref s_threadsInRegions, -Threads); }
        }

        // Threads of all pools in the process that are running a region now: each region's caller, and its workers unless
        // it runs alone.
        static int s_threadsInRegions;
        static readonly int s_cores = Environment.ProcessorCount;

        void RunOnAll(IParallelJob job, int parts, int grain, int largest)
        {
            _job = job;
            _parts = parts;
            _chunk = ChunkSize(parts, grain);
            // Never more than 1 / (HeadChunksPerThread x threads) of the region: a worker descheduled with its claim (a
            // busy neighbour on its core) holds up the region by at most that much.
            _largest = Math.Max(_chunk, Math.Min(largest, Share(parts, HeadChunksPerThread)));
            _failure = null;
            Volatile.Write(ref _completed, 0);
            uint generation = ++_generation;
            Volatile.Write(ref _region, (long)generation << 32); // publishes the fields above to the workers
            for (int i = 0; i < _start.Length; i++)
                if (Interlocked.Exchange(ref _sleeping[i], 0) == 1)
                    _start[i].Release();
            WorkOn(generation, worker: 0);
            // Every part is claimed now; wait only for the chunks other threads are still running.
            var spinner = new SpinWait();
            while (Volatile.Read(ref _completed) < parts)
                spinner.SpinOnce(sleep1Threshold: -1);
            // Close the region before the next one's fields are written: a late worker that read this region's counter
            // and then the next region's parts would otherwise find a part "unclaimed" and win its swap.
            Volatile.Write(ref _region, ((long)generation << 32) | Closed);
            _job = null;
            if (_failure is Exception failure)
                throw new InvalidOperationException("A worker thread failed: " + failure.Message, failure);
        }

        /// <summary>
        /// The smallest chunk of a region over <paramref name="parts"/> parts: at least <paramref name="grain"/>, and about
        /// 1 / (<see cref="TailChunksPerThread"/> x threads) of the parts. Chunks start larger (<see cref="ClaimSize"/>).
        /// </summary>
        public int ChunkSize(int parts, int grain = 1) => Math.Max(Math.Max(grain, 1), Share(parts, TailChunksPerThread));

        /// <summary>
        /// Parts a thread claims when <paramref name="remaining"/> are left: half of an even share of them, between the
        /// region's smallest and largest chunk. Chunks shrink towards the end, so the threads finish close together while
        /// the first claims stay large (few chunk starts, each with its own fixed cost). No job keeps results per chunk,
        /// so where the chunk boundaries fall changes no bits.
        /// </summary>
        int ClaimSize(int remaining, int smallest, int largest) => Math.Min(largest, Math.Max(smallest, Share(remaining, 2)));

        // parts / (chunksPerThread x threads), rounded up.
        int Share(int parts, int chunksPerThread) => (parts + Threads * chunksPerThread - 1) / (Threads * chunksPerThread);

        // Claims and runs chunks of region 'generation' until none is left or the region has ended.
        void WorkOn(uint generation, int worker)
        {
            while (true)
            {
                long region = Volatile.Read(ref _region);
                if ((uint)(region >> 32) != generation) return;
                int next = (int)region;
                // Read before the swap; valid if the swap succeeds, since the caller changes them only after this region ends.
                IParallelJob? job = _job;
                int parts = _parts, chunk = _chunk, largest = _largest;
                if (next >= parts || job is null) return;
                int size = ClaimSize(parts - next, chunk, largest);
                if (Interlocked.CompareExchange(ref _region, region + size, region) != region) continue;
                int end = Math.Min(next + size, parts);
                try
                {
                    job.Execute(next, end, worker);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _failure, e, null);
                }
                finally
                {
                    Interlocked.Add(ref _completed, end - next);
                }
            }
        }

        void WorkerLoop(int worker)
        {
            int index = worker - 1;
            uint seen = 0;
            while (true)
            {
                seen = WaitForRegion(index, seen);
                if (_stopping) return;
                WorkOn(seen, worker);
            }
        }

        uint CurrentGeneration => (uint)(Volatile.Read(ref _region) >> 32);

        // Returns the generation of the next region once it differs from 'seen': spin first (yielding the core when other
        // threads want it), then sleep on the semaphore. The sleeping flag is set with a full fence before the last look at
        // the generation, so a region started in between is never missed.
        uint WaitForRegion(int index, uint seen)
        {
            long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + _spinTicks;
            var spinner = new SpinWait();
            while (System.Diagnostics.Stopwatch.GetTimestamp() < deadline)
            {
                if (CurrentGeneration != seen || _stopping) return CurrentGeneration;
                spinner.SpinOnce(sleep1Threshold: -1);
            }
            while (true)
            {
                Interlocked.Exchange(ref _sleeping[index], 1);
                if (CurrentGeneration != seen || _stopping)
                {
                    // If the caller already cleared the flag it has released (or will release) us: take that signal.
                    if (Interlocked.Exchange(ref _sleeping[index], 0) == 0) _start[index].Wait();
                    return CurrentGeneration;
                }
                _start[index].Wait();
                if (CurrentGeneration != seen || _stopping) return CurrentGeneration;
            }
        }

        /// <summary>
        /// Tells the workers to exit and wakes the sleeping ones, without waiting: safe from a finalizer. The pool must not
        /// be running a region. Idempotent.
        /// </summary>
        public void Stop()
        {
            if (_stopping) return;
            _stopping = true;
            for (int i = 0; i < _start.Length; i++)
                if (Interlocked.Exchange(ref _sleeping[i], 0) == 1)
                    _start[i].Release();
        }

        /// <summary>Stops the workers and waits for them to exit (the semaphores hold no OS handle, so there is nothing else to free).</summary>
        public void Dispose()
        {
            Stop();
            foreach (Thread thread in _threads)
                if (thread != Thread.CurrentThread) thread.Join();
        }
    }
}
