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
    /// The persistent worker threads of one model instance. In a parallel region the threads (the caller included) take
    /// contiguous chunks of the parts from a shared counter until none are left, so a thread that is slowed down (another
    /// process on its core, a slower part of the map) takes fewer chunks instead of holding everyone up; the region returns
    /// when all are done. Between regions a worker spins for about a millisecond
    /// (the next layer usually starts within microseconds) and then sleeps on its semaphore, so an idle model costs
    /// nothing; nothing is allocated per region.
    /// <para>
    /// The threads reference only the pool, never the model that owns it, so a model that is dropped without
    /// <see cref="Dispose"/> is still collected; its finalizer calls <see cref="Stop"/>. A pool made by
    /// <see cref="Sequential"/> has no threads: it runs the same chunks in order on the caller, so a job that keeps one
    /// partial result per chunk gives the same bits as on the threaded pool of the same size.
    /// </para>
    /// </summary>
    public sealed class WorkerPool : IDisposable
    {
        readonly Thread[] _threads;
        readonly SemaphoreSlim[] _start; // one per worker: wakes it when it has gone to sleep
        readonly int[] _sleeping;        // 1 while a worker is (about to be) blocked on its semaphore
        int _generation;                  // bumped once per region; workers spin on it before sleeping

        // How long a worker spins for the next region before blocking: regions of one inference follow each other
        // within microseconds, and waking a blocked thread costs tens of them.
        const int SpinIterations = 20_000;
        // About this many chunks per thread: enough to even out a slowed thread, few enough to keep each chunk's
        // fixed costs (a ring refill, a weight panel brought into cache) small.
        const int ChunksPerThread = 4;

        IParallelJob? _job;
        int _parts, _chunk;
        int _next;    // the first part no thread has taken yet
        int _pending;
        volatile bool _stopping;
        Exception? _failure;

        public WorkerPool(int threads) : this(threads, startThreads: true)
        {
        }

        WorkerPool(int threads, bool startThreads)
        {
            if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "A pool needs at least the calling thread.");
            Threads = threads;
            _threads = new Thread[startThreads ? threads - 1 : 0];
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

        /// <summary>
        /// A pool without threads that splits every region exactly as a threaded pool of <paramref name="threads"/> would and
        /// runs the chunks in order on the caller: for an inference that runs while another one holds the threads.
        /// </summary>
        public static WorkerPool Sequential(int threads) => new WorkerPool(threads, startThreads: false);

        /// <summary>Threads a region is split for, the caller included (a <see cref="Sequential"/> pool runs them all on the caller).</summary>
        public int Threads { get; }

        // One reusable job object per kernel kind, so a region allocates nothing.
        internal object? StemJob, PointwiseJob, DepthwiseJob, ExpandDepthwiseJob, FullyConnectedJob;

        /// <summary>
        /// Runs <paramref name="job"/> over <paramref name="parts"/> parts on all threads and waits for them. Each
        /// <see cref="IParallelJob.Execute"/> call gets at least <paramref name="grain"/> parts (fewer only at the end).
        /// </summary>
        public void Run(IParallelJob job, int parts, int grain = 1)
        {
            if (Threads == 1 || parts < 2)
            {
                job.Execute(0, parts, 0);
                return;
            }
            if (_threads.Length == 0)
            {
                int chunk = ChunkSize(parts, grain);
                for (int start = 0; start < parts; start += chunk)
                    job.Execute(start, Math.Min(start + chunk, parts), 0);
                return;
            }
            ObjectDisposedException.ThrowIf(_stopping, this); // its workers are gone: waiting for them would never end
            _job = job;
            _parts = parts;
            _chunk = ChunkSize(parts, grain);
            Volatile.Write(ref _next, 0);
            _failure = null;
            Volatile.Write(ref _pending, _threads.Length);
            Interlocked.Increment(ref _generation);
            for (int i = 0; i < _start.Length; i++)
                if (Interlocked.Exchange(ref _sleeping[i], 0) == 1)
                    _start[i].Release();
            try
            {
                TakeChunks(job, 0);
            }
            finally
            {
                var spinner = new SpinWait();
                while (Volatile.Read(ref _pending) > 0)
                    spinner.SpinOnce(sleep1Threshold: -1);
                _job = null;
            }
            if (_failure is Exception failure)
                throw new InvalidOperationException("A worker thread failed: " + failure.Message, failure);
        }

        /// <summary>
        /// Parts per chunk of a region over <paramref name="parts"/> parts: a function of its arguments only, so chunk k
        /// always covers the same parts and a job that keeps one partial result per chunk adds them up in the same order.
        /// </summary>
        public int ChunkSize(int parts, int grain = 1)
            => Math.Max(Math.Max(grain, 1), (parts + Threads * ChunksPerThread - 1) / (Threads * ChunksPerThread));

        void TakeChunks(IParallelJob job, int worker)
        {
            int parts = _parts, chunk = _chunk;
            int start;
            while ((start = Interlocked.Add(ref _next, chunk) - chunk) < parts)
                job.Execute(start, Math.Min(start + chunk, parts), worker);
        }

        void WorkerLoop(int worker)
        {
            int index = worker - 1, seen = 0;
            while (true)
            {
                WaitForRegion(index, seen);
                seen = Volatile.Read(ref _generation);
                if (_stopping) return;
                try
                {
                    TakeChunks(_job!, worker);
                }
                catch (Exception e)
                {
                    _failure = e;
                }
                finally
                {
                    Interlocked.Decrement(ref _pending);
                }
            }
        }

        // Returns once the generation differs from 'seen': spin first, then sleep on the semaphore. The sleeping flag is
        // set with a full fence before the last look at the generation, so a region started in between is never missed.
        void WaitForRegion(int index, int seen)
        {
            for (int spin = 0; spin < SpinIterations; spin++)
            {
                if (Volatile.Read(ref _generation) != seen || _stopping) return;
                Thread.SpinWait(8);
            }
            while (true)
            {
                Interlocked.Exchange(ref _sleeping[index], 1);
                if (Volatile.Read(ref _generation) != seen || _stopping)
                {
                    // If the caller already cleared the flag it has released (or will release) us: take that signal.
                    if (Interlocked.Exchange(ref _sleeping[index], 0) == 0) _start[index].Wait();
                    return;
                }
                _start[index].Wait();
                if (Volatile.Read(ref _generation) != seen || _stopping) return;
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
            Interlocked.Increment(ref _generation);
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
