namespace EffNet
{
    /// <summary>Where strided convolutions put their zero padding. Must match how the weights were trained.</summary>
#if EFFNET_RUNTIME
    public
#endif
    enum EfficientNetPadding
    {
        /// <summary>PyTorch style, k/2 on every side: torchvision and timm <c>efficientnet_b*</c> weights.</summary>
        Symmetric = 0,

        /// <summary>TensorFlow "SAME": the total pad split with the extra pixel after (Keras, TF, timm <c>tf_efficientnet_b*</c>).</summary>
        Same = 1,
    }
}
