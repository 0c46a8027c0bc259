using System.Text;

namespace EffNet
{
    /// <summary>Constants of weight blob format v2 (docs/weight-format.md is the specification).</summary>
    static class WeightBlobFormat
    {
        public static readonly byte[] Magic = Encoding.ASCII.GetBytes("EFFNETWB");
        public static readonly byte[] TrailerMagic = Encoding.ASCII.GetBytes("EFFNETWE");
        /// <summary>The version the writer writes.</summary>
        public const uint Version = 2;

        /// <summary>The first version, still read: v2 less the metadata section.</summary>
        public const uint Version1 = 1;
        public const int HeaderBytes = 64;
        public const int TrailerBytes = 16;
        public const int DataAlignment = 64;
        public const byte DTypeFloat32 = (byte)Model.TensorElementType.Float32;

        /// <summary>Signed 8-bit levels: the weights of an int8 layer, with their scales in a float32 tensor beside them.</summary>
        public const byte DTypeInt8 = (byte)Model.TensorElementType.Int8;

        /// <summary>Signed 16-bit levels: the classifier's weights in an int8 blob, with their scales in a float32 tensor beside them.</summary>
        public const byte DTypeInt16 = (byte)Model.TensorElementType.Int16;
        public const int MaxRank = 8;
        public const int MaxNameBytes = 1024;
        public const int MaxTextBytes = 64 * 1024;

        /// <summary>Header offset of the u64 flags (formerly "reserved", always written as 0 before flags existed).</summary>
        public const int FlagsOffset = 56;

        /// <summary>Flag bit: the writer was told to keep NaN and infinite weights, so the reader accepts them.</summary>
        public const ulong FlagNonFiniteAllowed = 1;

        public const ulong KnownFlags = FlagNonFiniteAllowed;

        /// <summary>Metadata field tags (v2). A tag with <see cref="TagMustUnderstand"/> set may not be skipped by a reader that does not know it.</summary>
        public const ushort TagLabels = 1, TagPreprocessing = 2, TagProvenance = 3;

        public const ushort TagMustUnderstand = 0x8000;

        /// <summary>The model family (one byte, <see cref="Model.ModelFamily"/>), written for every family but the B-series, whose blobs
        /// predate it. Must be understood: a runtime that does not know it would read a Lite blob as a B-series network.</summary>
        public const ushort TagFamily = TagMustUnderstand | 4;

        /// <summary>The network's precision (one byte, <see cref="EfficientNetPrecision"/>), written only for Int8 networks. Must be
        /// understood: the weight layout and the kernels differ.</summary>
        public const ushort TagPrecision = TagMustUnderstand | 5;

        /// <summary>Bytes of the preprocessing field: resize, crop, interpolation, mean x 3, std x 3.</summary>
        public const int PreprocessingBytes = 4 + 4 + 1 + 3 * 4 + 3 * 4;

        public const int Sha256Bytes = 32;

        /// <summary>A directory larger than this is refused before it is read (B7's is under 100 KB).</summary>
        public const long MaxDirectoryBytes = 16 * 1024 * 1024;
    }
}
