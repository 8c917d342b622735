import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  type LlamaConfig,
  type WeightSource,
  expectedWeights,
  loadLlamaConfig,
  parseLlamaConfig,
  validateWeights,
  writeLlamaConfig,
} from '../../src/io/hf-config.ts';
import { openSafetensors } from '../../src/io/safetensors.ts';
import { FIXTURE } from '../model/fixture.ts';

// meta-llama/Llama-3.2-1B-Instruct's config.json and generation_config.json, as published on the Hub.
const LLAMA_32_1B = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 128000,
  eos_token_id: [128001, 128008, 128009],
  head_dim: 64,
  hidden_act: 'silu',
  hidden_size: 2048,
  initializer_range: 0.02,
  intermediate_size: 8192,
  max_position_embeddings: 131072,
  mlp_bias: false,
  model_type: 'llama',
  num_attention_heads: 32,
  num_hidden_layers: 16,
  num_key_value_heads: 8,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.45.0.dev0',
  use_cache: true,
  vocab_size: 128256,
};
// Qwen/Qwen2.5-7B-Instruct's config.json and generation_config.json, as published on the Hub.
const QWEN_25_7B = {
  architectures: ['Qwen2ForCausalLM'],
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  hidden_act: 'silu',
  hidden_size: 3584,
  initializer_range: 0.02,
  intermediate_size: 18944,
  max_position_embeddings: 32768,
  max_window_layers: 28,
  model_type: 'qwen2',
  num_attention_heads: 28,
  num_hidden_layers: 28,
  num_key_value_heads: 4,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 131072,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  transformers_version: '4.43.1',
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 152064,
};
const QWEN_25_GENERATION = {
  bos_token_id: 151643,
  pad_token_id: 151643,
  do_sample: true,
  eos_token_id: [151645, 151643],
  repetition_penalty: 1.05,
  temperature: 0.7,
  top_p: 0.8,
  top_k: 20,
};
const LLAMA_32_GENERATION = { bos_token_id: 128000, do_sample: true, eos_token_id: [128001, 128008, 128009], temperature: 0.6, top_p: 0.9 };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hf-config-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function folder(name: string, config: unknown, generation?: unknown): Promise<string> {
  const d = join(dir, name);
  await mkdir(d, { recursive: true });
  await writeFile(join(d, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  if (generation !== undefined) await writeFile(join(d, 'generation_config.json'), JSON.stringify(generation));
  return d;
}

function expectConfigError(fn: () => unknown, ...patterns: RegExp[]): void {
  let error: unknown = null;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, 'expected an error').toBeInstanceOf(ConfigError);
  for (const re of patterns) expect((error as Error).message).toMatch(re);
}

describe('loadLlamaConfig', () => {
  it('reads the llama-tiny config (values from the fixture README)', async () => {
    const c = await loadLlamaConfig(FIXTURE);
    expect(c).toEqual({
      architecture: 'llama',
      vocabSize: 512,
      hiddenSize: 64,
      intermediateSize: 192,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 16,
      rmsNormEps: 1e-5,
      ropeTheta: 500000,
      ropeScaling: { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 },
      maxPositionEmbeddings: 131072,
      tieWordEmbeddings: true,
      bosTokenId: 1,
      eosTokenIds: [2],
      torchDtype: 'bfloat16',
      qkvBias: false,
    } satisfies LlamaConfig);
  });

  it('reads Llama-3.2-1B-Instruct and merges generation_config.json EOS ids', async () => {
    const c = await loadLlamaConfig(await folder('l32', LLAMA_32_1B, LLAMA_32_GENERATION));
    expect(c).toMatchObject({ vocabSize: 128256, hiddenSize: 2048, numLayers: 16, numHeads: 32, numKvHeads: 8, headDim: 64, bosTokenId: 128000 });
    expect(c.eosTokenIds).toEqual([128001, 128008, 128009]);
    const single = await loadLlamaConfig(await folder('l32-single-eos', { ...LLAMA_32_1B, eos_token_id: 128009 }, LLAMA_32_GENERATION));
    expect(single.eosTokenIds).toEqual([128009, 128001, 128008]);
    expect(single.padTokenId).toBeUndefined();
  });

  it("applies transformers' LlamaConfig defaults for optional fields", () => {
    const c = parseLlamaConfig({ vocab_size: 100, hidden_size: 48, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 6 });
    expect(c).toMatchObject({
      numKvHeads: 6,
      headDim: 8,
      rmsNormEps: 1e-6,
      ropeTheta: 10000,
      ropeScaling: null,
      maxPositionEmbeddings: 2048,
      tieWordEmbeddings: false,
      bosTokenId: 1,
      eosTokenIds: [2],
      torchDtype: 'float32',
    });
    expect(parseLlamaConfig({ ...LLAMA_32_1B, rope_scaling: { rope_type: 'default' } }).ropeScaling).toBeNull();
    expect(
      parseLlamaConfig({
        ...LLAMA_32_1B,
        rope_scaling: { type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
      }).ropeScaling,
    ).toMatchObject({ factor: 8 });
  });

  it('rejects what is not a supported Llama, naming the file and the field', async () => {
    expectConfigError(
      () => parseLlamaConfig({ ...LLAMA_32_1B, model_type: 'mistral' }, 'x/config.json'),
      /x\/config\.json/,
      /model_type is "mistral"/,
      /only Llama/,
    );
    expectConfigError(() => parseLlamaConfig({ ...LLAMA_32_1B, architectures: ['LlamaForSequenceClassification'] }), /only Llama/);
    expectConfigError(
      () => parseLlamaConfig({ ...LLAMA_32_1B, rope_scaling: { rope_type: 'yarn', factor: 4 } }),
      /rope_scaling type "yarn" is not supported/,
      /llama3/,
    );
    expectConfigError(() => parseLlamaConfig({ ...LLAMA_32_1B, rope_scaling: { type: 'linear', factor: 2 } }), /"linear"/);
    expectConfigError(() => parseLlamaConfig({ ...LLAMA_32_1B, rope_scaling: { ...LLAMA_32_1B.rope_scaling, factor: '32' } }), /rope_scaling\.factor/);
    expectConfigError(() => parseLlamaConfig({ ...LLAMA_32_1B, hidden_size: undefined }), /"hidden_size" is missing/);
    expectConfigError(() => parseLlamaConfig({ ...LLAMA_32_1B, num_hidden_layers: 2.5 }), /"num_hidden_layers" is 2\.5/);
    expectConfigError(() => parseLlamaConfig({ ...LLAMA_32_1B, num_key_value_heads: 5 }), /not a multiple of num_key_value_heads/);
    expectConfigError(() => parseLlamaConfig({ ...LLAMA_32_1B, head_dim: undefined, hidden_size: 2050 }), /hidden_size \(2050\) is not a multiple/);
    expectConfigError(() => parseLlamaConfig({ ...LLAMA_32_1B, eos_token_id: [128001, 200000] }), /eos_token_id/, /vocab_size 128256/);
    expectConfigError(() => parseLlamaConfig({ ...LLAMA_32_1B, hidden_act: 'gelu' }), /hidden_act is "gelu"/);
    expectConfigError(() => parseLlamaConfig({ ...LLAMA_32_1B, attention_bias: true }), /attention_bias/);
    expectConfigError(() => parseLlamaConfig({ ...LLAMA_32_1B, rms_norm_eps: -1 }), /rms_norm_eps/);
    expectConfigError(() => parseLlamaConfig({ ...LLAMA_32_1B, torch_dtype: 'int8' }), /torch_dtype is "int8"/);
    await expect(loadLlamaConfig(join(dir, 'nowhere'))).rejects.toThrow(/nowhere\/config\.json: cannot read it \(ENOENT\)/);
    await expect(loadLlamaConfig(await folder('badjson', '{"vocab_size": 3,'))).rejects.toThrow(/badjson\/config\.json: not valid JSON/);
  });
});

describe('Qwen2 configs', () => {
  it('reads Qwen2.5-7B-Instruct: q/k/v biases, head_dim from hidden / heads, its RoPE θ and ε, generation EOS ids', async () => {
    const c = await loadLlamaConfig(await folder('qwen25-7b', QWEN_25_7B, QWEN_25_GENERATION));
    expect(c).toMatchObject({
      architecture: 'qwen2',
      qkvBias: true,
      vocabSize: 152064,
      hiddenSize: 3584,
      numLayers: 28,
      numHeads: 28,
      numKvHeads: 4,
      headDim: 128,
      rmsNormEps: 1e-6,
      ropeTheta: 1e6,
      ropeScaling: null,
      maxPositionEmbeddings: 32768,
      tieWordEmbeddings: false,
      bosTokenId: 151643,
      slidingWindow: 131072,
      maxWindowLayers: 28,
    });
    expect(c.eosTokenIds).toEqual([151645, 151643]);
    const weights = expectedWeights(c);
    expect(weights.length).toBe(1 + 28 * (2 + 7 + 3) + 1 + 1);
    expect(weights.slice(1, 9).map((w) => `${w.name} [${w.shape}]`)).toEqual([
      'model.layers.0.input_layernorm.weight [3584]',
      'model.layers.0.self_attn.q_proj.weight [3584,3584]',
      'model.layers.0.self_attn.q_proj.bias [3584]',
      'model.layers.0.self_attn.k_proj.weight [512,3584]',
      'model.layers.0.self_attn.k_proj.bias [512]',
      'model.layers.0.self_attn.v_proj.weight [512,3584]',
      'model.layers.0.self_attn.v_proj.bias [512]',
      'model.layers.0.self_attn.o_proj.weight [3584,3584]',
    ]);
    expect(weights.some((w) => w.name.includes('o_proj.bias') || (w.name.includes('mlp') && w.name.endsWith('.bias')))).toBe(false);
  });

  it("applies transformers' Qwen2Config defaults (no BOS/EOS, 32,768 positions, ε 1e-6) and ignores Llama's bias switches", () => {
    const c = parseLlamaConfig({
      model_type: 'qwen2',
      vocab_size: 100,
      hidden_size: 48,
      intermediate_size: 64,
      num_hidden_layers: 1,
      num_attention_heads: 6,
      attention_bias: false,
    });
    expect(c).toMatchObject({
      architecture: 'qwen2',
      qkvBias: true,
      numKvHeads: 6,
      headDim: 8,
      rmsNormEps: 1e-6,
      ropeTheta: 10000,
      maxPositionEmbeddings: 32768,
      tieWordEmbeddings: false,
      bosTokenId: null,
      eosTokenIds: [],
    });
    expect(parseLlamaConfig({ ...QWEN_25_7B, tie_word_embeddings: true }).tieWordEmbeddings).toBe(true);
    expect(parseLlamaConfig({ ...QWEN_25_7B, layer_types: Array(28).fill('full_attention') }).architecture).toBe('qwen2');
  });

  it('refuses sliding-window attention with the fix, and mismatched model_type / architectures', () => {
    expectConfigError(
      () => parseLlamaConfig({ ...QWEN_25_7B, use_sliding_window: true }, 'q/config.json'),
      /q\/config\.json/,
      /use_sliding_window is true/,
      /set it to false/,
    );
    expectConfigError(
      () => parseLlamaConfig({ ...QWEN_25_7B, layer_types: ['full_attention', 'sliding_attention'] }),
      /layer_types/,
      /sliding-window attention is not implemented/,
    );
    expectConfigError(() => parseLlamaConfig({ ...QWEN_25_7B, architectures: ['LlamaForCausalLM'] }), /with model_type "qwen2"/);
    expectConfigError(() => parseLlamaConfig({ ...QWEN_25_7B, model_type: 'qwen2_moe' }), /model_type is "qwen2_moe"/, /Qwen2ForCausalLM/);
  });

  it('writes config.json as Qwen2Config.save_pretrained does (no head_dim, the sliding-window fields kept) and reads it back', async () => {
    const config = parseLlamaConfig(QWEN_25_7B);
    const out = join(dir, 'written-qwen');
    await writeLlamaConfig(out, config);
    const text = readFileSync(join(out, 'config.json'), 'utf8');
    const { transformers_version, ...theirs } = QWEN_25_7B;
    expect(JSON.parse(text)).toEqual({ ...theirs, rope_scaling: null });
    expect(text).toContain('"rope_theta": 1000000.0');
    expect(await loadLlamaConfig(out)).toEqual(config);
  });
});

describe('expected and present weights', () => {
  it('expectedWeights names and shapes equal the fixture checkpoint (HF state_dict less the tied lm_head)', async () => {
    const config = await loadLlamaConfig(FIXTURE);
    const files = await openSafetensors(FIXTURE);
    const expected = expectedWeights(config);
    expect(new Set(expected.map((w) => w.name))).toEqual(new Set(files.names));
    for (const w of expected) expect(w.shape, w.name).toEqual(files.info(w.name).shape);
    expect(validateWeights(config, files)).toEqual({ unused: [] });
    await files.close();
  });

  it('an untied model also needs lm_head.weight [V, C]', () => {
    const c = parseLlamaConfig({ ...LLAMA_32_1B, tie_word_embeddings: false });
    const names = expectedWeights(c).map((w) => w.name);
    expect(names.length).toBe(1 + 16 * 9 + 2);
    expect(expectedWeights(c).at(-1)).toEqual({ name: 'lm_head.weight', shape: [128256, 2048] });
    expect(expectedWeights(c).find((w) => w.name === 'model.layers.15.self_attn.k_proj.weight')!.shape).toEqual([512, 2048]);
  });

  it('reports every missing tensor, shape mismatch and bad dtype in one error', () => {
    const config = parseLlamaConfig({
      vocab_size: 10,
      hidden_size: 8,
      intermediate_size: 12,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
    });
    type Info = ReturnType<WeightSource['info']>;
    const tensors = new Map<string, Info>(expectedWeights(config).map((w) => [w.name, { dtype: 'BF16', shape: w.shape, file: 'ckpt/model.safetensors' }]));
    tensors.delete('model.norm.weight');
    tensors.delete('lm_head.weight');
    tensors.set('model.layers.0.self_attn.k_proj.weight', { dtype: 'BF16', shape: [8, 8], file: 'ckpt/model.safetensors' });
    tensors.set('model.layers.0.mlp.up_proj.weight', { dtype: 'I64' as never, shape: [12, 8], file: 'ckpt/model.safetensors' });
    tensors.set('model.layers.1.input_layernorm.weight', { dtype: 'BF16', shape: [8], file: 'ckpt/model.safetensors' });
    tensors.set('model.layers.0.self_attn.rotary_emb.inv_freq', { dtype: 'F32', shape: [2], file: 'ckpt/model.safetensors' });
    const source: WeightSource = { source: 'ckpt', names: [...tensors.keys()], info: (n) => tensors.get(n)! };
    expectConfigError(
      () => validateWeights(config, source),
      /ckpt: the config and the weights don't match \(5 problem/,
      /missing tensor "model\.norm\.weight" \(expected shape \[8\]\)/,
      /missing tensor "lm_head\.weight"/,
      /"model\.layers\.0\.self_attn\.k_proj\.weight" in ckpt\/model\.safetensors: expected shape \[4, 8\], found \[8, 8\]/,
      /"model\.layers\.0\.mlp\.up_proj\.weight" .*dtype I64 is not supported/,
      /"model\.layers\.1\.input_layernorm\.weight" belongs to layer 1, but the config has num_hidden_layers 1/,
    );
    tensors.delete('model.layers.1.input_layernorm.weight');
    tensors.set('model.layers.0.mlp.up_proj.weight', { dtype: 'F16', shape: [12, 8], file: 'ckpt/model.safetensors' });
    tensors.set('model.layers.0.self_attn.k_proj.weight', { dtype: 'F32', shape: [4, 8], file: 'ckpt/model.safetensors' });
    tensors.set('model.norm.weight', { dtype: 'BF16', shape: [8], file: 'ckpt/model.safetensors' });
    tensors.set('lm_head.weight', { dtype: 'BF16', shape: [10, 8], file: 'ckpt/model.safetensors' });
    const ok: WeightSource = { source: 'ckpt', names: [...tensors.keys()], info: (n) => tensors.get(n)! };
    expect(validateWeights(config, ok)).toEqual({ unused: ['model.layers.0.self_attn.rotary_emb.inv_freq'] });
  });
});

describe('writeLlamaConfig', () => {
  it('writes what transformers wrote for the fixture (same fields and values, floats as floats)', async () => {
    const config = await loadLlamaConfig(FIXTURE);
    const out = join(dir, 'written');
    await writeLlamaConfig(out, config);
    const text = readFileSync(join(out, 'config.json'), 'utf8');
    const theirs = JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8'));
    delete theirs.transformers_version;
    expect(JSON.parse(text)).toEqual(theirs);
    expect(text).toContain('"factor": 32.0');
    expect(text).toContain('"rope_theta": 500000.0');
    expect(await loadLlamaConfig(out)).toEqual(config);
  });

  it('round-trips a config with several EOS ids and a pad id', async () => {
    const config = { ...parseLlamaConfig(LLAMA_32_1B), padTokenId: 128004 };
    const out = join(dir, 'written-32');
    await writeLlamaConfig(out, config);
    expect(await loadLlamaConfig(out)).toEqual(config);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).eos_token_id).toEqual([128001, 128008, 128009]);
  });
});
