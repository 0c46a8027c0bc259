using System;
using System.IO;
using System.Linq;
using EffNet.Import;
using EffNet.Model;
using EffNet.Runtime.Tests.Import;
using Xunit;

namespace EffNet.Runtime.Tests.Reliability
{
    /// <summary>
    /// Using the API wrongly gives ArgumentException, ObjectDisposedException or FileNotFoundException with a message
    /// saying what was expected (ModelApiTests covers Run's span lengths, Run after Dispose and a missing blob for Load).
    /// </summary>
    public sealed class ApiMisuseTests : IDisposable
    {
        readonly TempDirectory _temp = new TempDirectory();
        readonly string _blob;

        public ApiMisuseTests()
        {
            NetworkLayout layout = NetworkLayout.Create(new ModelConfig(0.5, 0.6, 64, 10, EfficientNetPadding.Symmetric));
            _blob = _temp.File("small64.effw");
            WeightBlobWriter.Write(_blob, layout, SyntheticWeights.CreateStateDict(layout), 1e-5f, "api misuse test");
        }

        public void Dispose() => _temp.Dispose();

        [Fact]
        public void Features_and_RunTraced_check_every_span_length_and_say_what_is_expected()
        {
            using Small64 model = Small64.Load(_blob);
            var image = new float[Small64.InputLength];
            var features = Assert.Throws<ArgumentException>(() => model.Features(image, new float[Small64.FeatureCount + 1]));
            Assert.Equal("features", features.ParamName);
            Assert.Contains($"exactly {Small64.FeatureCount} floats (FeatureCount) but holds {Small64.FeatureCount + 1}", features.Message);
            var traced = Assert.Throws<ArgumentException>(() => model.RunTraced(image.AsSpan(1), new float[10], null));
            Assert.Equal("image", traced.ParamName);
            Assert.Contains($"exactly {Small64.InputLength} floats", traced.Message);
            Assert.Throws<ArgumentException>(() => model.RunTraced(image, Span<float>.Empty, null));
        }

        [Fact]
        public void Every_method_after_Dispose_throws_ObjectDisposedException_naming_the_model()
        {
            Small64 model = Small64.Load(_blob);
            model.Dispose();
            var image = new float[Small64.InputLength];
            Assert.Contains("Small64", Assert.Throws<ObjectDisposedException>(() => model.Features(image, new float[Small64.FeatureCount])).Message);
            Assert.Contains("load the weights again", Assert.Throws<ObjectDisposedException>(() => model.RunTraced(image, new float[10], null)).Message);
        }

        [Theory]
        [InlineData(float.NaN, 0, "NaN at index 0 ([0, 0, 0] of [3, 64, 64])")]
        [InlineData(float.PositiveInfinity, 4097, "+Infinity at index 4097 ([1, 0, 1] of [3, 64, 64])")]
        [InlineData(float.NegativeInfinity, 3 * 64 * 64 - 1, "-Infinity at index 12287 ([2, 63, 63] of [3, 64, 64])")]
        public void Run_and_Features_refuse_an_image_holding_NaN_or_infinity_naming_the_first_one(float bad, int index, string where)
        {
            using Small64 model = Small64.Load(_blob);
            var image = new float[Small64.InputLength];
            image[index] = bad;
            if (index + 1 < image.Length) image[index + 1] = float.NaN; // only the first is named
            var run = Assert.Throws<ArgumentException>(() => model.Run(image, new float[Small64.NumClasses]));
            Assert.Equal("image", run.ParamName);
            Assert.Contains("image holds " + where, run.Message);
            Assert.Contains("every output would be NaN", run.Message);
            Assert.Contains(where, Assert.Throws<ArgumentException>(() => model.Features(image, new float[Small64.FeatureCount])).Message);
        }

        [Fact]
        public void A_disposed_WeightBlob_refuses_its_weights()
        {
            WeightBlob blob = WeightBlob.Read(_blob, NetworkLayout.Create(new ModelConfig(0.5, 0.6, 64, 10, EfficientNetPadding.Symmetric)));
            blob.Dispose();
            Assert.True(blob.IsDisposed);
            Assert.Throws<ObjectDisposedException>(() => blob.Weights.Length);
        }

        [Fact]
        public void Missing_files_give_FileNotFoundException_naming_the_path_for_every_reader()
        {
            string missing = _temp.File("nowhere.bin");
            var layout = NetworkLayout.Create(ModelConfig.ForPhi(0));
            foreach (Action read in new Action[]
            {
                () => WeightBlob.Read(missing, layout),
                () => WeightBlob.ReadInfo(missing),
                () => CheckpointReader.Read(missing),
                () => PyTorchCheckpoint.Read(missing),
                () => SafeTensorsFile.Read(missing),
                () => SafeTensorsFile.ReadMetadata(missing),
                () => NpyFile.Read(missing),
                () => CheckpointImporter.Import(missing, ModelConfig.ForPhi(0), _temp.File("out.effw")),
            })
            {
                var error = Assert.Throws<FileNotFoundException>(read);
                Assert.Equal(missing, error.FileName);
                Assert.Contains(missing, error.Message);
                Assert.Contains("does not exist", error.Message);
            }
            Assert.False(File.Exists(_temp.File("out.effw")));
        }

        [Fact]
        public void Null_arguments_and_unusable_streams_are_ArgumentExceptions_naming_the_parameter()
        {
            var layout = NetworkLayout.Create(ModelConfig.ForPhi(0));
            Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => WeightBlob.Read((string)null!, layout)).ParamName);
            Assert.Equal("expected", Assert.Throws<ArgumentNullException>(() => WeightBlob.Read(new MemoryStream(), null!)).ParamName);
            var stream = Assert.Throws<ArgumentException>(() => CheckpointReader.ReadCheckpoint(new WriteOnlyStream()));
            Assert.Equal("stream", stream.ParamName);
            Assert.Contains("readable and seekable", stream.Message);
            Assert.Equal("checkpointPath", Assert.Throws<ArgumentNullException>(() => CheckpointImporter.Import(null!, ModelConfig.ForPhi(0), "x")).ParamName);
        }

        [Theory]
        [InlineData(0f)]
        [InlineData(-1e-5f)]
        [InlineData(float.NaN)]
        [InlineData(float.PositiveInfinity)]
        public void A_batch_norm_epsilon_that_is_not_a_positive_number_is_refused(float epsilon)
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
                WeightBlobWriter.Pack(BlobBytes.Tiny, SyntheticWeights.CreateStateDict(BlobBytes.Tiny), epsilon));
            Assert.Equal("batchNormEpsilon", error.ParamName);
            Assert.Contains("must be a positive number", error.Message);
        }

        [Fact]
        public void A_tensor_whose_shape_does_not_hold_its_data_is_refused_with_both_counts()
        {
            var error = Assert.Throws<ArgumentException>(() => new SourceTensor(new[] { 2, 3 }, new float[5]));
            Assert.Contains("Shape [2, 3] holds 6 elements but 5 were given", error.Message);
        }

        [Fact]
        public void Writing_a_blob_onto_a_directory_fails_and_leaves_no_temporary_file()
        {
            string directory = _temp.File("target.effw");
            Directory.CreateDirectory(directory);
            var error = Assert.Throws<IOException>(() =>
                WeightBlobWriter.Write(directory, BlobBytes.Tiny, SyntheticWeights.CreateStateDict(BlobBytes.Tiny), 1e-5f, "x"));
            Assert.Contains("it is a directory", error.Message);
            Assert.Equal(new[] { _blob, directory }.Order(StringComparer.Ordinal), Directory.GetFileSystemEntries(_temp.Path).Order(StringComparer.Ordinal));
        }

        sealed class WriteOnlyStream : MemoryStream
        {
            public override bool CanRead => false;
        }
    }
}
