using System;
using System.Diagnostics;
using System.Threading;

namespace EffNet.Bench
{
    /// <summary>A process that keeps one core busy (`sh -c 'while :; do :; done'`) until disposed.</summary>
    sealed class BusyNeighbour : IDisposable
    {
        readonly Process _process;

        BusyNeighbour(Process process) => _process = process;

        public static BusyNeighbour Start()
        {
            var process = Process.Start(new ProcessStartInfo("sh", new[] { "-c", "while :; do :; done" }) { UseShellExecute = false })
                ?? throw new InvalidOperationException("could not start the busy neighbour (sh)");
            Thread.Sleep(200); // let the scheduler place it
            return new BusyNeighbour(process);
        }

        public void Dispose()
        {
            _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
        }
    }
}
