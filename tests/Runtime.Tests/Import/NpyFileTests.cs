using System;
using System.Buffers.Binary;
using System.IO;
using System.Text;
using EffNet.Import;
using Xunit;

namespace EffNet.Runtime.Tests.Import
{
    /// <summary>.npy files written by numpy itself, our own writer, and headers that lie.</summary>
    public sealed class NpyFileTests
    {
        [Theory]
        [InlineData("npy/f32.npy")]
        [InlineData("npy/f32_v2.npy")]
        [InlineData("npy/f32_v3.npy")]
        public void Reads_float32_written_by_numpy_in_every_header_version(string file)
        {
            SourceTensor array = NpyFile.Read(Fixtures.PathOf(file));
            Assert.Equal(new[] { 2, 3 }, array.Shape);
            Assert.Equal(new[] { 0f, 1, 2, 3, 4, 5 }, array.Data);
        }

        [Fact]
        public void Reads_big_endian_float64_as_float32()
        {
            SourceTensor array = NpyFile.Read(Fixtures.PathOf("npy/f64_big_endian.npy"));
            Assert.Equal(new[] { 1, 2 }, array.Shape);
            Assert.Equal(new[] { 1.5f, -2.25f }, array.Data);
        }

        [Fact]
        public void Reads_a_scalar_as_shape_empty_with_one_value()
        {
            SourceTensor array = NpyFile.Read(Fixtures.PathOf("npy/scalar.npy"));
            Assert.Empty(array.Shape);
            Assert.Equal(new[] { 3.5f }, array.Data);
        }

        [Theory]
        [InlineData("npy/fortran.npy", "Fortran")]
        [InlineData("npy/int32.npy", "dtype '<i4' is not float32 or float64")]
        public void Refuses_arrays_it_cannot_represent(string file, string expected)
        {
            var error = Assert.Throws<WeightFormatException>(() => NpyFile.Read(Fixtures.PathOf(file)));
            Assert.Contains(expected, error.Message);
            Assert.Contains(Path.GetFileName(file), error.Message);
        }

        [Theory]
        [InlineData(new int[0])]
        [InlineData(new[] { 7 })]
        [InlineData(new[] { 3, 5, 4 })]
        [InlineData(new[] { 2, 0, 3 })]
        public void Written_array_reads_back_with_its_shape_and_values(int[] shape)
        {
            int count = 1;
            foreach (int d in shape) count *= d;
            float[] data = SyntheticWeights.Uniform("npy", 1, count, -3f, 3f);
            var stream = new MemoryStream();
            NpyFile.Write(stream, data, shape);

            byte[] bytes = stream.ToArray();
            int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
            Assert.Equal(0, (10 + headerLength) % 64); // data 64-byte aligned, as np.save writes it
            Assert.Equal((byte)'\n', bytes[10 + headerLength - 1]);
            Assert.Contains(shape.Length == 1 ? "'shape': (7,)" : "'descr': '<f4'", Encoding.Latin1.GetString(bytes, 10, headerLength));

            stream.Position = 0;
            SourceTensor back = NpyFile.Read(stream);
            Assert.Equal(shape, back.Shape);
            Assert.Equal(data, back.Data);
        }

        [Fact]
        public void Writer_refuses_a_shape_that_does_not_hold_the_data()
            => Assert.Throws<ArgumentException>(() => NpyFile.Write(new MemoryStream(), new float[5], new[] { 2, 3 }));

        static byte[] WithHeader(string header, int dataBytes, byte major = 1) => NpyBytes.Build(header, dataBytes, major);

        const string Good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";

        [Theory]
        [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 20, "needs 24 bytes of data, but the file has 20")]
        [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 28, "needs 24 bytes of data, but the file has 28")]
        [InlineData("{'descr': '<f4', 'fortran_order': False}\n", 0, "lacks one of")]
        [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}\n", 4, "unexpected or repeated key 'extra'")]
        [InlineData("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}\n", 4, "unexpected or repeated key 'descr'")]
        [InlineData("{'descr': '<f4', 'fortran_order': Maybe, 'shape': ()}\n", 4, "not True or False")]
        [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}\n", 4, "not a size")]
        [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,)}\n", 4, "not a size")]
        [InlineData("{'descr': '<f4, 'fortran_order': False, 'shape': ()}\n", 4, "not a valid dict literal")]
        [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': ()} junk\n", 4, "unexpected text after the dict")]
        [InlineData("['descr']\n", 4, "expected '{'")]
        [InlineData("{'descr': '<U4', 'fortran_order': False, 'shape': ()}\n", 16, "dtype '<U4'")]
        public void Bad_header_fails_naming_the_problem(string header, int dataBytes, string expected)
        {
            var error = Assert.Throws<WeightFormatException>(() => NpyFile.Read(new MemoryStream(WithHeader(header, dataBytes)), "bad.npy"));
            Assert.Contains(expected, error.Message);
            Assert.Contains("bad.npy", error.Message);
        }

        [Fact]
        public void Bad_magic_version_and_lengths_fail()
        {
            byte[] good = WithHeader(Good, 24);
            Assert.Equal(new[] { 2, 3 }, NpyFile.Read(new MemoryStream(good)).Shape);
            Assert.Equal(new[] { 2, 3 }, NpyFile.Read(new MemoryStream(WithHeader(Good, 24, major: 2))).Shape);

            byte[] magic = (byte[])good.Clone();
            magic[1] = (byte)'X';
            Assert.Contains("not a .npy file", Assert.Throws<WeightFormatException>(() => NpyFile.Read(new MemoryStream(magic))).Message);

            byte[] version = (byte[])good.Clone();
            version[6] = 4;
            Assert.Contains("version 4.0", Assert.Throws<WeightFormatException>(() => NpyFile.Read(new MemoryStream(version))).Message);

            byte[] longHeader = (byte[])good.Clone();
            BinaryPrimitives.WriteUInt16LittleEndian(longHeader.AsSpan(8), 60000);
            Assert.Contains("runs past the end", Assert.Throws<WeightFormatException>(() => NpyFile.Read(new MemoryStream(longHeader))).Message);

            Assert.Contains("too short", Assert.Throws<WeightFormatException>(() => NpyFile.Read(new MemoryStream(good.AsSpan(0, 7).ToArray()))).Message);
        }
    }
}
