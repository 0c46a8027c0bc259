namespace EffNet
{
    /// <summary>
    /// The number format of a network (<c>ModelConfig.Precision</c>) and of each of its layers. In an Int8 network
    /// the layers <c>QuantizationPolicy</c> chooses run in int8; the rest stay Float32.
    /// </summary>
#if EFFNET_RUNTIME
    public
#endif
    enum EfficientNetPrecision
    {
        Float32 = 0,

        /// <summary>
        /// s8 weights with one scale per output channel, u8 inputs with one scale and zero point per tensor
        /// (EffNet.Kernels.PointwiseConvolutionInt8); the bias and the arithmetic after the sums stay fp32.
        /// </summary>
        Int8 = 1,
    }
}
