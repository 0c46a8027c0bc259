using System;
using System.Buffers.Binary;
using System.Linq;
using CsCheck;

namespace EffNet.Tests.Shared
{
    /// <summary>
    /// One random edit of a file, the kind a truncated download, a bit flip or a hostile author makes. Positions are
    /// taken modulo the file's length when applied, so they shrink towards the start of the file.
    /// </summary>
    public abstract record Mutation
    {
        public abstract byte[] Apply(byte[] input);

        static int At(uint position, int length) => length == 0 ? 0 : (int)(position % (uint)length);

        /// <summary>Flips one bit.</summary>
        public sealed record Flip(uint Position, int Bit) : Mutation
        {
            public override byte[] Apply(byte[] input)
            {
                if (input.Length == 0) return input;
                byte[] copy = (byte[])input.Clone();
                copy[At(Position, copy.Length)] ^= (byte)(1 << Bit);
                return copy;
            }
        }

        /// <summary>Writes a value that lies well as a length, count or offset (0, -1, 2^31 - 1, ...) as a 1-, 2-, 4- or 8-byte integer.</summary>
        public sealed record Lie(uint Position, int Width, long Value, bool BigEndian) : Mutation
        {
            public override byte[] Apply(byte[] input)
            {
                if (input.Length < Width) return input;
                byte[] copy = (byte[])input.Clone();
                Span<byte> at = copy.AsSpan(At(Position, copy.Length - Width + 1), Width);
                Span<byte> value = stackalloc byte[8];
                if (BigEndian) BinaryPrimitives.WriteInt64BigEndian(value, Value);
                else BinaryPrimitives.WriteInt64LittleEndian(value, Value);
                (BigEndian ? value.Slice(8 - Width) : value.Slice(0, Width)).CopyTo(at);
                return copy;
            }
        }

        /// <summary>Cuts the file short.</summary>
        public sealed record Truncate(uint Position) : Mutation
        {
            public override byte[] Apply(byte[] input) => input.AsSpan(0, At(Position, input.Length)).ToArray();
        }

        /// <summary>Removes a run of bytes (the rest moves up: every later offset now lies).</summary>
        public sealed record Delete(uint Position, int Count) : Mutation
        {
            public override byte[] Apply(byte[] input)
            {
                int at = At(Position, input.Length), count = Math.Min(Count, input.Length - at);
                return input.AsSpan(0, at).ToArray().Concat(input.AsSpan(at + count).ToArray()).ToArray();
            }
        }

        /// <summary>Inserts bytes.</summary>
        public sealed record Insert(uint Position, byte[] Bytes) : Mutation
        {
            public override byte[] Apply(byte[] input)
            {
                int at = At(Position, input.Length + 1);
                return input.AsSpan(0, at).ToArray().Concat(Bytes).Concat(input.AsSpan(at).ToArray()).ToArray();
            }

            public override string ToString() => $"Insert {{ Position = {Position}, Bytes = {Convert.ToHexString(Bytes)} }}";
        }

        /// <summary>Copies a run of the file over another place (duplicated records, overlapping entries).</summary>
        public sealed record Copy(uint From, uint To, int Count) : Mutation
        {
            public override byte[] Apply(byte[] input)
            {
                if (input.Length == 0) return input;
                byte[] copy = (byte[])input.Clone();
                int from = At(From, copy.Length), to = At(To, copy.Length);
                int count = Math.Min(Count, Math.Min(copy.Length - from, copy.Length - to));
                input.AsSpan(from, count).CopyTo(copy.AsSpan(to));
                return copy;
            }
        }

        static readonly long[] LyingValues =
        {
            0, 1, 2, 7, 8, 63, 64, 65, 255, 256, 4096, 65535, 65536, 1 << 20, int.MaxValue, int.MinValue, uint.MaxValue,
            -1, -2, -64, long.MaxValue, long.MinValue, 1L << 32, 1L << 40,
        };

        /// <summary>
        /// One to four mutations. Half of the positions fall in the first <paramref name="headerBytes"/> bytes, where the
        /// lengths, counts and offsets live; the others anywhere in a file of up to <paramref name="fileBytes"/> bytes.
        /// </summary>
        public static Gen<Mutation[]> Generator(int headerBytes, int fileBytes)
        {
            Gen<uint> position = Gen.Frequency(
                (1, Gen.UInt[0, (uint)Math.Max(headerBytes - 1, 0)]),
                (1, Gen.UInt[0, (uint)Math.Max(fileBytes - 1, 0)]));
            Gen<Mutation> one = Gen.Frequency(
                (3, Gen.Select(position, Gen.Int[0, 7], (p, b) => (Mutation)new Flip(p, b))),
                (3, Gen.Select(position, Gen.OneOf(1, 2, 4, 8), Gen.OneOf(LyingValues), Gen.Bool,
                    (p, w, v, big) => (Mutation)new Lie(p, w, v, big))),
                (1, Gen.Select(Gen.UInt[0, (uint)Math.Max(fileBytes - 1, 0)], p => (Mutation)new Truncate(p))),
                (1, Gen.Select(position, Gen.Int[1, 64], (p, n) => (Mutation)new Delete(p, n))),
                (1, Gen.Select(position, Gen.Byte.Array[1, 16], (p, bytes) => (Mutation)new Insert(p, bytes))),
                (1, Gen.Select(position, position, Gen.Int[1, 256], (from, to, n) => (Mutation)new Copy(from, to, n))));
            return one.Array[1, 4];
        }

        public static byte[] ApplyAll(byte[] input, Mutation[] mutations) => mutations.Aggregate(input, (bytes, m) => m.Apply(bytes));

        public static string Print(Mutation[] mutations) => string.Join("; ", mutations.Select(m => m.ToString()));
    }

    /// <summary>The contract every parser keeps for any input: a result or its one documented exception, and bounded allocation.</summary>
    public static class ParserContract
    {
        /// <summary>
        /// Runs <paramref name="parse"/>; passes when it returns or throws <typeparamref name="TDocumented"/> and allocates at
        /// most <paramref name="allowedBytes"/> on this thread. Anything else fails, naming the input.
        /// </summary>
        /// <returns>True when the parser accepted the input.</returns>
        public static bool Holds<TDocumented>(Action parse, long allowedBytes, string input) where TDocumented : Exception
            => Holds<TDocumented>(parse, allowedBytes, input, out _);

        /// <inheritdoc cref="Holds{TDocumented}(Action, long, string)"/>
        public static bool Holds<TDocumented>(Action parse, long allowedBytes, string input, out long allocated) where TDocumented : Exception
        {
            bool accepted;
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                parse();
                accepted = true;
            }
            catch (TDocumented)
            {
                accepted = false;
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"{input}: {e.GetType().Name} escaped instead of {typeof(TDocumented).Name}: {e.Message}\n{e.StackTrace}");
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > allowedBytes)
                throw new Xunit.Sdk.XunitException($"{input}: {allocated:N0} bytes allocated, more than the {allowedBytes:N0} the file can justify.");
            return accepted;
        }
    }

    /// <summary>Counts a property's mutants, those accepted, and the largest allocation seen (for the figures in docs/reliability.md).</summary>
    public sealed class MutantTally
    {
        readonly object _lock = new object();
        int _total, _accepted;
        long _maxAllocated;
        int _maxAllocatedLength;

        /// <summary><see cref="ParserContract.Holds{TDocumented}(Action, long, string)"/>, counted.</summary>
        public bool Check<TDocumented>(Action parse, byte[] input, long allowedBytes, string description) where TDocumented : Exception
        {
            bool accepted = ParserContract.Holds<TDocumented>(parse, allowedBytes, description, out long allocated);
            lock (_lock)
            {
                _total++;
                if (accepted) _accepted++;
                if (allocated > _maxAllocated)
                    (_maxAllocated, _maxAllocatedLength) = (allocated, input.Length);
            }
            return accepted;
        }

        public override string ToString() =>
            $"{_total} mutants, {_accepted} accepted, {_total - _accepted} refused; largest allocation {_maxAllocated:N0} bytes (for a {_maxAllocatedLength:N0}-byte file)";
    }
}
