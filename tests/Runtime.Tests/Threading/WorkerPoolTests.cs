using System;
using System.Threading;
using EffNet.Threading;
using Xunit;

namespace EffNet.Runtime.Tests.Threading
{
    public sealed class WorkerPoolTests
    {
        /// <summary>Counts how often each part ran and on which thread.</summary>
        sealed class RecordingJob : IParallelJob
        {
            public readonly int[] Runs, Workers;
            public ManualResetEventSlim? Gate; // when set, every chunk waits for it
            public readonly ManualResetEventSlim Started = new();

            public RecordingJob(int parts)
            {
                Runs = new int[parts];
                Workers = new int[parts];
            }

            public void Execute(int start, int end, int worker)
            {
                Started.Set();
                Gate?.Wait(TimeSpan.FromSeconds(30));
                for (int part = start; part < end; part++)
                {
                    Interlocked.Increment(ref Runs[part]);
                    Workers[part] = worker;
                }
            }
        }

        [Theory]
        [InlineData(2, 1)]
        [InlineData(2, 97)]
        [InlineData(3, 1000)]
        public void Every_part_runs_exactly_once(int threads, int parts)
        {
            using var pool = new WorkerPool(threads);
            for (int region = 0; region < 50; region++)
            {
                var job = new RecordingJob(parts);
                pool.Run(job, parts);
                Assert.All(job.Runs, runs => Assert.Equal(1, runs));
            }
        }

        [Fact]
        public void A_region_runs_on_its_caller_alone_while_other_pools_hold_every_core()
        {
            int cores = Environment.ProcessorCount;
            using var busy = new WorkerPool(cores);
            using var other = new WorkerPool(2);
            var held = new RecordingJob(cores) { Gate = new ManualResetEventSlim() };
            var holding = new Thread(() => busy.Run(held, cores));
            holding.Start();
            try
            {
                Assert.True(held.Started.Wait(TimeSpan.FromSeconds(30)), "the holding region never started");
                for (int region = 0; region < 20; region++)
                {
                    var job = new RecordingJob(64);
                    other.Run(job, 64);
                    Assert.All(job.Runs, runs => Assert.Equal(1, runs));
                    Assert.All(job.Workers, worker => Assert.Equal(0, worker)); // the caller ran every part
                }
            }
            finally
            {
                held.Gate.Set();
                holding.Join(TimeSpan.FromSeconds(30));
            }
            Assert.All(held.Runs, runs => Assert.Equal(1, runs));
        }
    }
}
