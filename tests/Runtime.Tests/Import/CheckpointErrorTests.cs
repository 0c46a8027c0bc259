using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using EffNet.Import;
using EffNet.Model;
using Xunit;

namespace EffNet.Runtime.Tests.Import
{
    /// <summary>Malicious, damaged and mismatched checkpoints: always a <see cref="WeightFormatException"/> that says why.</summary>
    public sealed class CheckpointErrorTests : IDisposable
    {
        readonly TempDirectory _temp = new TempDirectory();

        public void Dispose() => _temp.Dispose();

        static WeightFormatException ReadFails(byte[] bytes, string name = "bad.ckpt")
            => Assert.Throws<WeightFormatException>(() => CheckpointReader.ReadCheckpoint(new MemoryStream(bytes), name));

        // ----- forbidden globals -----

        [Theory]
        [InlineData("evil_os_system.pt", "posix.system")]
        [InlineData("evil_builtins_eval.pt", "__builtin__.eval")]
        [InlineData("evil_subprocess_popen.pt", "commands.Popen")] // protocol 2 writes subprocess.Popen under its Python 2 name
        [InlineData("evil_load_from_bytes.pt", "torch.storage._load_from_bytes")]
        public void Forbidden_global_written_by_torch_save_is_refused_by_name(string file, string global)
        {
            var error = Assert.Throws<WeightFormatException>(() => CheckpointReader.Read(Fixtures.PathOf(file)));
            Assert.Contains($"refuses global '{global}'", error.Message);
            Assert.Contains(file, error.Message);
            Assert.Contains("data.pkl offset", error.Message);
        }

        [Theory]
        [InlineData("os", "system", false)]
        [InlineData("os", "system", true)]
        [InlineData("subprocess", "Popen", false)]
        [InlineData("builtins", "eval", true)]
        [InlineData("torch", "load", false)]
        public void Forbidden_global_is_refused_through_GLOBAL_and_STACK_GLOBAL(string module, string name, bool stackGlobal)
        {
            var pickle = new PickleBuilder();
            if (stackGlobal) pickle.Str(module).Str(name).Op(0x93);
            else pickle.Global(module, name);
            pickle.Str("ls").Op(0x85).Op((byte)'R').Stop();
            Assert.Contains($"refuses global '{module}.{name}'", ReadFails(TorchZip.Build(pickle.ToArray(), new Dictionary<string, byte[]>())).Message);
        }

        [Fact]
        public void A_storage_class_cannot_be_called()
        {
            byte[] pickle = new PickleBuilder().Global("torch", "FloatStorage").Op((byte)')').Op((byte)'R').Stop().ToArray();
            Assert.Contains("only allowed in persistent ids", ReadFails(TorchZip.Build(pickle, new Dictionary<string, byte[]>())).Message);
        }

        // ----- hand-made pickles that break the rules -----

        public static IEnumerable<object[]> BrokenPickles()
        {
            object[] Case(string expected, PickleBuilder pickle) => new object[] { expected, pickle.ToArray() };
            yield return Case("before its STOP opcode", new PickleBuilder().BeginStateDict());
            yield return Case("memo entry 5 is read before it is written", new PickleBuilder().Op((byte)'h').Raw(5).Stop());
            yield return Case("stack is empty", new PickleBuilder().Op((byte)'R').Stop());
            yield return Case("found no MARK", new PickleBuilder().Op((byte)'t').Stop());
            yield return Case("opcode 0x69", new PickleBuilder().Op((byte)'i').Stop()); // INST is not supported
            yield return Case("4294967295 bytes are needed", new PickleBuilder().Op((byte)'X').Raw(0xff, 0xff, 0xff, 0xff));
            yield return Case("an integer of 9 bytes", new PickleBuilder().Op(0x8a).Raw(9, 1, 2, 3, 4, 5, 6, 7, 8, 9).Stop());
            yield return Case("pickle protocol 9", new PickleBuilder().Op(0x80).Raw(9).Stop());
            yield return Case("STOP leaves 2 objects", new PickleBuilder().Int(1).Int(2).Stop());
            yield return Case("not a state dict", new PickleBuilder().Int(1).Stop());
            yield return Case("is not ('storage', type, key, location, numel)", new PickleBuilder().Str("x").Op((byte)'Q').Stop());
            yield return Case("persistent id names 'collections.OrderedDict'",
                new PickleBuilder().Mark().Str("storage").Global("collections", "OrderedDict").Str("0").Str("cpu").Int(1).Tuple().Op((byte)'Q').Stop());
            yield return Case("SETITEMS with an odd number", new PickleBuilder().BeginStateDict().Str("k").EndStateDict());
            yield return Case("state dict entry 'k' is not a tensor", new PickleBuilder().BeginStateDict().Str("k").Int(3).EndStateDict());
            yield return Case("GLOBAL's module or name has no line end", new PickleBuilder().Op((byte)'c').Raw(Encoding.ASCII.GetBytes("collections")));
            yield return Case("BUILD on a integer", new PickleBuilder().Int(1).Int(2).Op((byte)'b').Stop());
            yield return Case("6 sizes but 1 strides",
                new PickleBuilder().BeginStateDict().Tensor("w", "0", 6, 0, new long[] { 1, 1, 1, 1, 1, 6 }, new long[] { 1 }).EndStateDict());
        }

        [Theory]
        [MemberData(nameof(BrokenPickles))]
        public void Broken_pickle_fails_with_its_offset_and_reason(string expected, byte[] pickle)
        {
            WeightFormatException error = ReadFails(TorchZip.Build(pickle, new Dictionary<string, byte[]> { ["0"] = TorchZip.Floats(1, 2, 3, 4, 5, 6) }));
            Assert.Contains(expected, error.Message);
            Assert.Contains("bad.ckpt", error.Message);
        }

        [Theory]
        [InlineData(6, 0, new long[] { 2, 3 }, new long[] { 3, 1 }, 20, "holds 20 bytes but the tensor needs 24")]
        [InlineData(6, 1, new long[] { 2, 3 }, new long[] { 3, 1 }, 24, "reaches element 6, past the storage's end")]
        [InlineData(6, 0, new long[] { 3, 3 }, new long[] { 1, 1 }, 24, "more than its storage holds")]
        [InlineData(6, 0, new long[] { 2, -3 }, new long[] { 3, 1 }, 24, "axis 1 has size -3")]
        [InlineData(6, 0, new long[] { 2, 3 }, new long[] { 3, -1 }, 24, "axis 1 has size 3 and stride -1")]
        [InlineData(1L << 40, 0, new long[] { 2, 3 }, new long[] { 3, 1 }, 24, "larger than any EfficientNet tensor")]
        public void Tensor_that_does_not_fit_its_storage_fails_naming_the_key(long numel, long offset, long[] size, long[] stride, int storageBytes, string expected)
        {
            byte[] pickle = new PickleBuilder().BeginStateDict().Tensor("features.0.0.weight", "0", numel, offset, size, stride).EndStateDict().ToArray();
            WeightFormatException error = ReadFails(TorchZip.Build(pickle, new Dictionary<string, byte[]> { ["0"] = new byte[storageBytes] }));
            Assert.Contains("tensor 'features.0.0.weight'", error.Message);
            Assert.Contains(expected, error.Message);
        }

        [Fact]
        public void Missing_storage_entry_is_named()
        {
            byte[] pickle = new PickleBuilder().BeginStateDict().Tensor("w", "7", 2, 0, new long[] { 2 }, new long[] { 1 }).EndStateDict().ToArray();
            Assert.Contains("'archive/data/7' is missing", ReadFails(TorchZip.Build(pickle, new Dictionary<string, byte[]>())).Message);
        }

        [Fact]
        public void Hand_built_zip_with_any_root_folder_reads()
        {
            byte[] pickle = new PickleBuilder().BeginStateDict()
                .Tensor("a", "0", 4, 1, new long[] { 2 }, new long[] { 2 })
                .Tensor("b", "0", 4, 0, new long[] { 2 }, new long[] { 2 })
                .EndStateDict().ToArray();
            byte[] zip = TorchZip.Build(pickle, new Dictionary<string, byte[]> { ["0"] = TorchZip.Floats(1, 2, 3, 4) }, root: "my_model");
            Dictionary<string, SourceTensor> tensors = PyTorchCheckpoint.Read(new MemoryStream(zip));
            Assert.Equal(new[] { 2f, 4 }, tensors["a"].Data);
            Assert.Equal(new[] { 1f, 3 }, tensors["b"].Data);
        }

        [Fact]
        public void A_training_checkpoint_wrapping_the_state_dict_reads_its_state_dict()
        {
            byte[] pickle = new PickleBuilder().Op((byte)'}').Mark().Str("epoch").Int(3).Str("state_dict")
                .BeginStateDict().Tensor("w", "0", 2, 0, new long[] { 2 }, new long[] { 1 }).Op((byte)'u')
                .Op((byte)'u').Stop().ToArray();
            Dictionary<string, SourceTensor> tensors = PyTorchCheckpoint.Read(new MemoryStream(TorchZip.Build(pickle, new Dictionary<string, byte[]> { ["0"] = TorchZip.Floats(5, 6) })));
            Assert.Equal(new[] { "w" }, tensors.Keys);
        }

        // ----- damaged files -----

        [Theory]
        [InlineData(0.0)]
        [InlineData(0.001)]
        [InlineData(0.5)]
        [InlineData(0.999)]
        public void Truncated_torch_save_file_fails_cleanly(double keep)
        {
            byte[] bytes = Fixtures.Bytes("custom_c10.pt");
            byte[] cut = bytes.AsSpan(0, (int)(bytes.Length * keep)).ToArray();
            WeightFormatException error = ReadFails(cut, "cut.pt");
            Assert.Contains("cut.pt", error.Message);
        }

        [Theory]
        [InlineData(0.5)]
        [InlineData(0.999)]
        public void Truncated_safetensors_file_fails_cleanly(double keep)
        {
            byte[] bytes = Fixtures.Bytes("custom_c10_timm_bf16.safetensors");
            WeightFormatException error = ReadFails(bytes.AsSpan(0, (int)(bytes.Length * keep)).ToArray(), "cut.safetensors");
            Assert.Contains("cut.safetensors", error.Message);
        }

        [Fact]
        public void Safetensors_cut_inside_its_header_is_not_recognised()
        {
            byte[] bytes = Fixtures.Bytes("custom_c10_timm_bf16.safetensors").AsSpan(0, 100).ToArray();
            Assert.Contains("neither a PyTorch zip checkpoint", ReadFails(bytes).Message);
        }

        public static IEnumerable<object[]> LyingSafeTensors()
        {
            object[] Case(string expected, byte[] bytes) => new object[] { expected, bytes };
            yield return Case("needs 8 bytes, but its data_offsets [0, 4] span 4", SafeTensorsBytes.OneTensor(offsets: "[0,4]"));
            yield return Case("outside the data section of 8 bytes", SafeTensorsBytes.OneTensor(offsets: "[0,16]"));
            yield return Case("outside the data section", SafeTensorsBytes.OneTensor(offsets: "[8,0]"));
            yield return Case("has no data_offsets", SafeTensorsBytes.OneTensor(offsets: "[0]"));
            yield return Case("outside the data section", SafeTensorsBytes.OneTensor(offsets: "[-1,7]"));
            yield return Case("has dtype 'Q4'", SafeTensorsBytes.OneTensor(dtype: "Q4"));
            yield return Case("has dtype 'U8'", SafeTensorsBytes.OneTensor(dtype: "U8"));
            yield return Case("needs 4 bytes", SafeTensorsBytes.OneTensor(dtype: "F16"));
            yield return Case("invalid size in its shape", SafeTensorsBytes.OneTensor(shape: "[-2]"));
            yield return Case("invalid size in its shape", SafeTensorsBytes.OneTensor(shape: "[2.5]"));
            yield return Case("trailing bytes", SafeTensorsBytes.OneTensor(dataBytes: 12));
            yield return Case("but the previous tensor ends at 8",
                SafeTensorsBytes.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]));
            yield return Case("names 'a' twice",
                SafeTensorsBytes.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]));
            yield return Case("not valid JSON", SafeTensorsBytes.Build("{\"a\":", new byte[8]));
            yield return Case("'__metadata__' entry 'n' is not a string", SafeTensorsBytes.Build("{\"__metadata__\":{\"n\":1}}", Array.Empty<byte>()));
            yield return Case("header length 9999 at offset 0", new byte[] { 0x0f, 0x27, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}' });
        }

        [Theory]
        [MemberData(nameof(LyingSafeTensors))]
        public void Lying_safetensors_header_fails_naming_the_problem(string expected, byte[] bytes)
        {
            // A header length past the end is not even recognised as safetensors; read it as such to see that message too.
            var error = Assert.Throws<WeightFormatException>(() => SafeTensorsFile.Read(new MemoryStream(bytes), "lying.safetensors"));
            Assert.Contains(expected, error.Message);
            Assert.Contains("lying.safetensors", error.Message);
        }

        [Theory]
        [InlineData("tiny.pt")]
        [InlineData("custom_c10_timm_bf16.safetensors")]
        public void Randomly_damaged_checkpoints_fail_only_with_WeightFormatException(string fixture)
        {
            // A small deterministic fuzz: flip bytes, cut, or overwrite with 0xFF; every outcome is a result or a WeightFormatException.
            byte[] original = Fixtures.Bytes(fixture);
            int limit = Math.Min(original.Length, 4096);
            var random = new Random(2019);
            for (int round = 0; round < 300; round++)
            {
                byte[] bytes = (byte[])original.Clone();
                int at = random.Next(limit);
                switch (round % 3)
                {
                    case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                    case 1: bytes = bytes.AsSpan(0, at).ToArray(); break;
                    default: bytes.AsSpan(at, Math.Min(8, bytes.Length - at)).Fill(0xff); break;
                }
                try
                {
                    CheckpointReader.ReadCheckpoint(new MemoryStream(bytes), "fuzz");
                }
                catch (WeightFormatException)
                {
                }
                catch (Exception e)
                {
                    Assert.Fail($"{fixture} round {round} (offset {at}): {e.GetType().Name}: {e.Message}");
                }
            }
        }

        [Fact]
        public void Randomly_damaged_pickles_fail_only_with_WeightFormatException()
        {
            // The zip layer may catch damage before the unpickler sees it, so damage tiny.pt's data.pkl itself and re-zip it.
            (byte[] pickle, Dictionary<string, byte[]> storages) = TorchZip.Split(Fixtures.Bytes("tiny.pt"));
            Assert.Equal(8, PyTorchCheckpoint.Read(new MemoryStream(TorchZip.Build(pickle, storages))).Count);

            var random = new Random(7);
            int failures = 0;
            for (int round = 0; round < 2000; round++)
            {
                byte[] bytes = (byte[])pickle.Clone();
                for (int flips = 1 + round % 3; flips > 0; flips--)
                    bytes[random.Next(bytes.Length)] = round % 2 == 0 ? (byte)random.Next(256) : (byte)(bytes[random.Next(bytes.Length)]);
                try
                {
                    PyTorchCheckpoint.Read(new MemoryStream(TorchZip.Build(bytes, storages)), "fuzz.pt");
                }
                catch (WeightFormatException)
                {
                    failures++;
                }
                catch (Exception e)
                {
                    Assert.Fail($"round {round}: {e.GetType().Name}: {e.Message}");
                }
            }
            Assert.True(failures > 1000, $"only {failures} of 2000 damaged pickles were refused");
        }

        [Fact]
        public void Files_that_are_not_checkpoints_say_what_they_are()
        {
            Assert.Contains("NumPy .npy array", ReadFails(Fixtures.Bytes("npy/f32.npy")).Message);
            Assert.Contains("legacy torch.save format", ReadFails(new PickleBuilder().Stop().ToArray()).Message);
            Assert.Contains("neither a PyTorch zip checkpoint", ReadFails(Encoding.UTF8.GetBytes("hello, weights")).Message);
            Assert.Contains("neither", ReadFails(Array.Empty<byte>()).Message);
            Assert.Throws<FileNotFoundException>(() => CheckpointReader.Read(_temp.File("absent.pt")));
        }

        // ----- the wrong model for the checkpoint -----

        [Fact]
        public void A_checkpoint_of_another_class_count_is_named_with_the_attribute_to_import_it_for_and_nothing_is_written()
        {
            string output = _temp.File("b0.effw");
            var error = Assert.Throws<WeightFormatException>(() =>
                CheckpointImporter.Import(Fixtures.PathOf("b0_c10_fp16.pt"), ModelConfig.ForPhi(0), output));
            Assert.StartsWith(Fixtures.PathOf("b0_c10_fp16.pt") + ": the checkpoint holds EfficientNet-B0 with 10 classes, not EfficientNet-B0 @224x224, 1000 classes", error.Message);
            Assert.Contains("import it for [EfficientNet(Phi = 0, NumClasses = 10)]", error.Message);
            Assert.False(File.Exists(output));
            Assert.Empty(Directory.GetFiles(_temp.Path));
        }

        [Fact]
        public void A_checkpoint_of_another_variant_is_named_not_listed_tensor_by_tensor()
        {
            var error = Assert.Throws<WeightFormatException>(() =>
                CheckpointImporter.Import(Fixtures.PathOf("b0_c10_fp16.pt"), ModelConfig.ForPhi(3, numClasses: 10), _temp.File("b3.effw")));
            Assert.Contains("the checkpoint holds EfficientNet-B0 with 10 classes, not EfficientNet-B3 @300x300, 10 classes", error.Message);
            Assert.Contains("[EfficientNet(Phi = 0, NumClasses = 10)]", error.Message);
            Assert.DoesNotContain("features.", error.Message);
            Assert.True(error.Message.Length - Fixtures.PathOf("b0_c10_fp16.pt").Length < 250, error.Message);
        }

        [Fact]
        public void A_custom_checkpoint_for_an_official_model_names_its_width_and_depth()
        {
            var error = Assert.Throws<WeightFormatException>(() =>
                CheckpointImporter.Import(Fixtures.PathOf("custom_c10.pt"), ModelConfig.ForPhi(0, numClasses: 10), _temp.File("x.effw")));
            Assert.Contains("holds EfficientNet (width 0.5, depth 0.6) with 10 classes", error.Message);
            Assert.Contains("[EfficientNet(Width = 0.5, Depth = 0.6, NumClasses = 10)]", error.Message);
        }

        [Fact]
        public void Tensors_that_do_not_fit_a_checkpoint_of_the_right_model_are_listed_a_few_with_their_count()
        {
            // B0's state dict with every stage-6 block's depthwise kernel 3x3 instead of 5x5: the right network otherwise.
            NetworkLayout b0 = NetworkLayout.Create(ModelConfig.ForPhi(0));
            string path = _temp.Write("b0_k3.pt", MemoryBombs.ModelCheckpoint(b0, (key, shape) =>
                key.StartsWith("features.6.", StringComparison.Ordinal) && key.EndsWith("block.1.0.weight", StringComparison.Ordinal)
                    ? (key, shape[0] * 9L, 0, new[] { shape[0], 1, 3, 3 })
                    : null, storages: b0.ReferenceStateDict().Where(e => e.Key.StartsWith("features.6.", StringComparison.Ordinal) && e.Key.EndsWith("block.1.0.weight", StringComparison.Ordinal))
                                        .ToDictionary(e => e.Key, e => new byte[e.Value[0] * 9 * 4])));
            var error = Assert.Throws<WeightFormatException>(() => CheckpointImporter.Import(path, b0.Config, _temp.File("x.effw")));
            Assert.Contains("4 tensor(s) with the wrong shape: features.6.0.block.1.0.weight is [672, 1, 3, 3], expected [672, 1, 5, 5]", error.Message);
            Assert.Contains("; and 1 more.", error.Message);
            Assert.True(error.Message.Split("expected [").Length - 1 == 3, error.Message); // three named, the rest counted
        }

        [Fact]
        public void Keys_of_no_known_layout_are_refused_with_a_sample()
        {
            string path = _temp.File("hf.safetensors");
            SafeTensorsFile.Write(path, new Dictionary<string, SourceTensor>
            {
                ["efficientnet.embeddings.convolution.weight"] = new SourceTensor(new[] { 1 }, new[] { 1f }),
            });
            var error = Assert.Throws<WeightFormatException>(() => CheckpointImporter.Import(path, ModelConfig.ForPhi(0), _temp.File("hf.effw")));
            Assert.Contains("Hugging Face", error.Message);
            Assert.Contains("efficientnet.embeddings.convolution.weight", error.Message);
        }
    }
}
