using System;
using System.Threading;

namespace EffNet.Threading
{
    /// <summary>A piece of work split into <c>count</c> parts; <see cref="Execute"/> runs parts [start, end).</summary>
    public interface IParallelJob
    {
        void Execute(int start, int end, int worker);
    }

    /// <summary>
    /// The persistent worker threads of one model instance. A parallel region hands each thread (the caller included) a
    /// contiguous share of the parts and returns when all are done. Workers wait on a semaphore between regions, so an idle
    /// model costs nothing; nothing is allocated per region.
    /// </summary>
    public sealed class WorkerPool : IDisposable
    {
        readonly Thread[] _threads;
        readonly SemaphoreSlim[] _start; // one per worker, so each takes exactly its own share of a region
        IParallelJob? _job;
        int _parts;
        int _pending;
        volatile bool _stopping;
        Exception? _failure;

        public WorkerPool(int threads)
        {
            if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "A pool needs at least the calling thread.");
            Threads = threads;
            _threads = new Thread[threads - 1];
            _start = new SemaphoreSlim[threads - 1];
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
        internal object? PointwiseJob, DepthwiseJob;

        /// <summary>Runs <paramref name="job"/> over <paramref name="parts"/> parts on all threads and waits for them.</summary>
        public void Run(IParallelJob job, int parts)
        {
            if (Threads == 1 || parts < 2)
            {
                job.Execute(0, parts, 0);
                return;
            }
            _job = job;
            _parts = parts;
            _failure = null;
            Volatile.Write(ref _pending, _threads.Length);
            foreach (SemaphoreSlim signal in _start) signal.Release();
            (int start, int end) = Share(parts, 0);
            try
            {
                job.Execute(start, end, 0);
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

        (int Start, int End) Share(int parts, int worker)
        {
            long start = (long)parts * worker / Threads, end = (long)parts * (worker + 1) / Threads;
            return ((int)start, (int)end);
        }

        void WorkerLoop(int worker)
        {
            while (true)
            {
                _start[worker - 1].Wait();
                if (_stopping) return;
                try
                {
                    (int start, int end) = Share(_parts, worker);
                    if (start < end) _job!.Execute(start, end, worker);
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

        public void Dispose()
        {
            if (_stopping) return;
            _stopping = true;
            foreach (SemaphoreSlim start in _start) start.Release();
            foreach (Thread thread in _threads) thread.Join();
            foreach (SemaphoreSlim start in _start) start.Dispose();
        }
    }
}
