// RoPE inverse frequencies, as Hugging Face computes them in float32 (modeling_rope_utils.py), including
// Llama 3's frequency scaling: wavelengths longer than original_max/low_freq_factor are divided by
// `factor`, shorter than original_max/high_freq_factor kept, and those between interpolated smoothly.
import type { LlamaConfig } from '../io/hf-config.ts';

const f = Math.fround;

export function ropeInverseFrequencies(config: Pick<LlamaConfig, 'headDim' | 'ropeTheta' | 'ropeScaling'>): Float32Array {
  const D = config.headDim;
  const half = D / 2;
  const inv = new Float32Array(half);
  // 1 / base^(2i / D), with the exponent and the power in float32 as torch does
  for (let i = 0; i < half; i++) inv[i] = f(1 / f(config.ropeTheta ** f(f(2 * i) / D)));
  const s = config.ropeScaling;
  if (!s) return inv;
  const lowFreqWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  for (let i = 0; i < half; i++) {
    const wavelen = f((2 * Math.PI) / inv[i]);
    const scaled = wavelen > lowFreqWavelen ? f(inv[i] / s.factor) : inv[i];
    if (wavelen < highFreqWavelen || wavelen > lowFreqWavelen) {
      inv[i] = scaled;
    } else {
      const smooth = f(f(f(s.originalMaxPositionEmbeddings / wavelen) - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor));
      inv[i] = f(f(f(f(1 - smooth) * scaled) / s.factor) + f(smooth * scaled));
    }
  }
  return inv;
}
