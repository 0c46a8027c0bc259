using System;

namespace EffNet
{
    /// <summary>
    /// Receives the output of each torchvision stage during a traced run ("features.0" ... "features.8", then "avgpool"),
    /// as an HWC map. For checking an import stage by stage against a reference; the span is only valid during the call.
    /// </summary>
    public delegate void StageObserver(string stage, ReadOnlySpan<float> activations, int height, int width, int channels);
}
