using System;

namespace EffNet.Kernels
{
    /// <summary>Up-front span length checks, so the unchecked loops inside kernels cannot run past a buffer.</summary>
    static class Check
    {
        public static void Length(int actual, long required, string name)
        {
            if (actual < required)
                throw new ArgumentException($"{name} holds {actual} floats but this layer needs {required}.", name);
        }
    }
}
