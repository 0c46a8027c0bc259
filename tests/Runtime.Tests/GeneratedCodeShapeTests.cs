using System;
using System.Linq;
using System.Reflection;
using Xunit;

namespace EffNet.Runtime.Tests
{
    /// <summary>The emitted code stays within what the JIT optimises (it falls back to MinOpts past ~60 KB of IL or 2000 locals).</summary>
    public sealed class GeneratedCodeShapeTests
    {
        [Fact]
        public void Every_generated_method_of_B7_is_far_below_the_JIT_MinOpts_limits()
        {
            // The forward pass lives in a file-local class named after the model ("...B7Network").
            Type network = typeof(B7).Assembly.GetTypes().Single(t => t.Name.EndsWith("__B7Network", StringComparison.Ordinal));
            MethodInfo[] methods = network.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly);
            Assert.Contains(methods, m => m.Name == "Block54"); // one method per block: B7 has 55
            foreach (MethodInfo method in methods)
            {
                MethodBody body = method.GetMethodBody()!;
                int il = body.GetILAsByteArray()!.Length;
                Assert.True(il < 6_000, $"{method.Name} has {il} bytes of IL");
                Assert.True(body.LocalVariables.Count < 100, $"{method.Name} has {body.LocalVariables.Count} locals");
            }
        }
    }
}
