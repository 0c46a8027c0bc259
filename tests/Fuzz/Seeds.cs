using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using EffNet.Import;
using EffNet.Runtime.Tests.Import;

namespace EffNet.Fuzz
{
    /// <summary>Small valid inputs for each target (afl-fuzz wants seeds of a few kilobytes at most), and tiny.pt's storages.</summary>
    static class Seeds
    {
        /// <summary>tests/Runtime.Tests/Fixtures/tiny.pt (written by torch.save), embedded: every element type, strided views.</summary>
        public static byte[] TinyPt()
        {
            using Stream resource = typeof(Seeds).Assembly.GetManifestResourceStream("tiny.pt")!;
            using var buffer = new MemoryStream();
            resource.CopyTo(buffer);
            return buffer.ToArray();
        }

        public static readonly Lazy<Dictionary<string, byte[]>> TinyStorages = new(() => TorchZip.Split(TinyPt()).Storages);

        public static void Write(string root)
        {
            void Save(string target, string name, byte[] bytes)
            {
                string directory = Path.Combine(root, target);
                Directory.CreateDirectory(directory);
                File.WriteAllBytes(Path.Combine(directory, name), bytes);
                Console.WriteLine($"{target}/{name}: {bytes.Length:N0} bytes");
            }

            var blob = new MemoryStream();
            WeightBlobWriter.Write(blob, Targets.TinyLayout, SyntheticWeights.CreateStateDict(Targets.TinyLayout), BatchNormFolding.PyTorchEpsilon, "fuzz seed");
            Save("blob", "tiny.effw", blob.ToArray());
            Save("blob-int8", "tiny.int8.effw", EffNet.Runtime.Tests.Reliability.BlobBytes.TinyInt8Blob());

            Save("pth", "tiny.pt", TinyPt());
            Save("pickle", "tiny.pkl", TorchZip.Split(TinyPt()).Pickle);

            var tensors = new Dictionary<string, SourceTensor>
            {
                ["features.0.0.weight"] = new SourceTensor(new[] { 2, 1, 1, 3 }, new[] { 1f, -2f, 0.5f, 3f, 0f, -0.25f }),
                ["features.0.1.bias"] = new SourceTensor(new[] { 2 }, new[] { 0.1f, 0.2f }),
                ["scalar"] = new SourceTensor(Array.Empty<int>(), new[] { 7f }),
            };
            var safetensors = new MemoryStream();
            SafeTensorsFile.Write(safetensors, tensors, new Dictionary<string, string> { ["format"] = "pt" });
            Save("safetensors", "f32.safetensors", safetensors.ToArray());
            Save("safetensors", "mixed.safetensors", MixedSafeTensors());

            var npy = new MemoryStream();
            NpyFile.Write(npy, new[] { 0f, 1, 2, 3, 4, 5 }, new[] { 2, 3 });
            Save("npy", "f32.npy", npy.ToArray());
            Save("npy", "f64_big_endian_v2.npy", NpyBytes.Build("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }\n",
                new byte[] { 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xc0, 0x02, 0, 0, 0, 0, 0, 0 }, major: 2));
            Save("npy", "scalar_v3.npy", NpyBytes.Build("{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", BitConverter.GetBytes(3.5f), major: 3));
        }

        /// <summary>One tensor of each element type the reader converts: F16, BF16, F64, I64, I32.</summary>
        static byte[] MixedSafeTensors()
        {
            string header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}," +
                            "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,8]}," +
                            "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]}," +
                            "\"l\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[16,24]}," +
                            "\"i\":{\"dtype\":\"I32\",\"shape\":[1,1],\"data_offsets\":[24,28]}}";
            byte[] json = Encoding.UTF8.GetBytes(header);
            var data = new byte[28];
            BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(0), (Half)1.5f);
            BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(2), (Half)(-2f));
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(4), 0x3fc0); // bf16 1.5
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(6), 0xc000); // bf16 -2
            BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8), 0.25);
            BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(16), 12345);
            BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(24), -7);
            var bytes = new byte[8 + json.Length + data.Length];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
            json.CopyTo(bytes, 8);
            data.CopyTo(bytes, 8 + json.Length);
            return bytes;
        }
    }
}
