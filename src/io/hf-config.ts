// A Hugging Face config.json of a Llama or a Qwen2 (the Qwen2.5 family) as a typed, validated LlamaConfig;
// the weight names and shapes it implies (HF's own names, as in LlamaForCausalLM / Qwen2ForCausalLM
// .state_dict()); a check that a checkpoint matches it; and a writer for config.json files that transformers
// can load.
//
// Qwen2 is a Llama with biases on q_proj, k_proj and v_proj (o_proj and the MLP have none) and no head_dim
// field; one config type describes both, with `architecture` and `qkvBias` saying which. Defaults for absent
// fields are those of transformers' LlamaConfig or Qwen2Config. The five sizes that define the model (vocab,
// hidden, intermediate, layers, heads) are required: a config without them is not a real checkpoint.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_JSON_DEPTH, jsonDepth } from '../util/json.ts';
import { writeFileAtomically } from './atomic-write.ts';
import { DTYPE_BYTES, type SafetensorsDType } from './safetensors-header.ts';

export interface Llama3RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

export type TorchDtype = 'bfloat16' | 'float16' | 'float32';

/** The Hugging Face model class: LlamaForCausalLM (model_type "llama") or Qwen2ForCausalLM ("qwen2"). */
export type Architecture = 'llama' | 'qwen2';

const ARCHITECTURE_CLASS: Record<Architecture, string> = { llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM' };

export interface LlamaConfig {
  architecture: Architecture;
  vocabSize: number;
  /** C */
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  /** H */
  numHeads: number;
  numKvHeads: number;
  /** D (hidden / heads unless the config says otherwise) */
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: Llama3RopeScaling | null;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  bosTokenId: number | null;
  /** config.json's eos_token_id (an int or a list) merged with generation_config.json's. */
  eosTokenIds: number[];
  padTokenId?: number;
  torchDtype: TorchDtype;
  /** q_proj, k_proj and v_proj carry a bias, added before RoPE (Qwen2; Llama has none). */
  qkvBias: boolean;
  /** Qwen2's sliding-window fields, unused (use_sliding_window must be false) but written back as read. */
  slidingWindow?: number | null;
  maxWindowLayers?: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Reads `dir/config.json` (and `dir/generation_config.json` if present for more EOS ids). */
export async function loadLlamaConfig(dir: string): Promise<LlamaConfig> {
  const file = join(dir, 'config.json');
  const raw = await readJson(file, true);
  const config = parseLlamaConfig(raw, file);
  const genFile = join(dir, 'generation_config.json');
  const gen = await readJson(genFile, false);
  if (gen !== undefined) {
    if (!isObject(gen)) throw new ConfigError(`${genFile}: expected a JSON object.`);
    const extra = gen.eos_token_id;
    if (extra !== undefined && extra !== null) {
      for (const id of tokenIds(extra, genFile, 'eos_token_id', config.vocabSize)) {
        if (!config.eosTokenIds.includes(id)) config.eosTokenIds.push(id);
      }
    }
  }
  return config;
}

/** Validates an already-parsed config.json object; `file` names it in errors. */
export function parseLlamaConfig(raw: unknown, file = 'config.json'): LlamaConfig {
  const fail = (what: string): never => {
    throw new ConfigError(`${file}: ${what}`);
  };
  if (!isObject(raw)) return fail('expected a JSON object.');
  const c = raw;

  const architecture = architectureOf(c, fail);
  const qwen2 = architecture === 'qwen2';
  const hiddenAct = c.hidden_act ?? 'silu';
  if (hiddenAct !== 'silu') fail(`hidden_act is ${JSON.stringify(hiddenAct)}; ${qwen2 ? 'Qwen2' : 'Llama'} uses "silu" and nothing else is supported.`);
  if (!qwen2) {
    for (const key of ['attention_bias', 'mlp_bias'] as const) {
      if (c[key] != null && c[key] !== false) fail(`${key} is ${JSON.stringify(c[key])}; bias terms are not supported (Llama has none).`);
    }
  } else {
    // Qwen2's sliding window would restrict layers ≥ max_window_layers to the last sliding_window keys.
    if (c.use_sliding_window === true) {
      fail(
        'use_sliding_window is true; sliding-window attention is not implemented. Qwen2.5 checkpoints ship "use_sliding_window": false — set it to false to run the model with full attention.',
      );
    }
    if (c.use_sliding_window !== undefined && c.use_sliding_window !== false)
      fail(`"use_sliding_window" is ${JSON.stringify(c.use_sliding_window)}; expected false.`);
    if (Array.isArray(c.layer_types) && c.layer_types.some((t) => t !== 'full_attention')) {
      fail(`layer_types is ${JSON.stringify(c.layer_types)}; only "full_attention" layers are supported (sliding-window attention is not implemented).`);
    }
  }

  const int = (key: string, fallback?: number, min = 1): number => {
    const v = c[key] ?? fallback;
    if (v === undefined) return fail(`"${key}" is missing; it is required.`);
    if (!Number.isSafeInteger(v) || (v as number) < min) fail(`"${key}" is ${JSON.stringify(v)}; expected an integer ≥ ${min}.`);
    return v as number;
  };
  const positive = (key: string, fallback: number, obj: Record<string, unknown> = c, where = key): number => {
    const v = obj[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(`"${where}" is ${JSON.stringify(v)}; expected a positive number.`);
    return v as number;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'boolean') fail(`"${key}" is ${JSON.stringify(v)}; expected true or false.`);
    return v as boolean;
  };

  const vocabSize = int('vocab_size');
  const hiddenSize = int('hidden_size');
  const intermediateSize = int('intermediate_size');
  const numLayers = int('num_hidden_layers');
  const numHeads = int('num_attention_heads');
  const numKvHeads = int('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads) fail(`num_attention_heads (${numHeads}) is not a multiple of num_key_value_heads (${numKvHeads}).`);
  if (c.head_dim == null && hiddenSize % numHeads) {
    fail(`hidden_size (${hiddenSize}) is not a multiple of num_attention_heads (${numHeads}) and head_dim is not given.`);
  }
  const headDim = int('head_dim', hiddenSize / numHeads);
  const maxPositionEmbeddings = int('max_position_embeddings', qwen2 ? 32768 : 2048);

  // transformers ≥ 5 moves rope_theta and the scaling into "rope_parameters".
  const ropeParams = isObject(c.rope_parameters) ? c.rope_parameters : undefined;
  const ropeTheta = positive('rope_theta', (ropeParams?.rope_theta as number | undefined) ?? 10000);
  const ropeScaling = parseRopeScaling(c.rope_scaling ?? ropeParams ?? null, fail);

  const torchDtype = c.torch_dtype ?? c.dtype ?? 'float32';
  if (torchDtype !== 'bfloat16' && torchDtype !== 'float16' && torchDtype !== 'float32') {
    fail(`torch_dtype is ${JSON.stringify(torchDtype)}; supported are "bfloat16", "float16" and "float32".`);
  }

  // LlamaConfig defaults BOS/EOS to 1/2; Qwen2Config has none.
  const bos = c.bos_token_id === undefined ? (qwen2 ? null : 1) : c.bos_token_id;
  const bosTokenId = bos === null ? null : tokenIds(bos, file, 'bos_token_id', vocabSize, true)[0];
  const eos = c.eos_token_id === undefined ? (qwen2 ? null : 2) : c.eos_token_id;
  const eosTokenIds = eos === null ? [] : tokenIds(eos, file, 'eos_token_id', vocabSize);
  const pad = c.pad_token_id;
  const padTokenId = pad === undefined || pad === null ? undefined : tokenIds(pad, file, 'pad_token_id', vocabSize, true)[0];

  const qwen2Fields = qwen2
    ? {
        slidingWindow: c.sliding_window === null ? null : int('sliding_window', 4096),
        maxWindowLayers: int('max_window_layers', 28, 0),
      }
    : {};
  return {
    architecture,
    vocabSize,
    hiddenSize,
    intermediateSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: positive('rms_norm_eps', 1e-6),
    ropeTheta,
    ropeScaling,
    maxPositionEmbeddings,
    tieWordEmbeddings: bool('tie_word_embeddings', false),
    bosTokenId,
    eosTokenIds,
    ...(padTokenId === undefined ? {} : { padTokenId }),
    torchDtype: torchDtype as TorchDtype,
    qkvBias: qwen2,
    ...qwen2Fields,
  };
}

/** Llama or Qwen2, from model_type and architectures (a config with neither is read as a Llama). */
function architectureOf(c: Record<string, unknown>, fail: (what: string) => never): Architecture {
  const supported = 'supported are Llama (model_type "llama", LlamaForCausalLM) and Qwen2 (model_type "qwen2", Qwen2ForCausalLM, the Qwen2.5 family)';
  let architecture: Architecture | undefined;
  if (c.model_type !== undefined) {
    if (c.model_type !== 'llama' && c.model_type !== 'qwen2')
      fail(`model_type is ${JSON.stringify(c.model_type)}; only Llama and Qwen2 models are supported: ${supported}.`);
    architecture = c.model_type as Architecture;
  }
  if (c.architectures !== undefined && c.architectures !== null) {
    const archs = c.architectures;
    const named = (Object.keys(ARCHITECTURE_CLASS) as Architecture[]).filter((a) => Array.isArray(archs) && archs.includes(ARCHITECTURE_CLASS[a]));
    if (named.length !== 1 || (architecture !== undefined && named[0] !== architecture)) {
      fail(
        `architectures is ${JSON.stringify(archs)}${architecture ? ` with model_type "${architecture}"` : ''}; only Llama and Qwen2 models are supported: ${supported}.`,
      );
    }
    architecture = named[0];
  }
  return architecture ?? 'llama';
}

function parseRopeScaling(raw: unknown, fail: (what: string) => never): Llama3RopeScaling | null {
  if (raw === null) return null;
  if (!isObject(raw)) return fail(`rope_scaling is ${JSON.stringify(raw)}; expected an object or null.`);
  // Older files say "type", newer ones "rope_type".
  const kind = raw.rope_type ?? raw.type ?? 'default';
  if (kind === 'default') return null;
  if (kind !== 'llama3') {
    fail(`rope_scaling type ${JSON.stringify(kind)} is not supported; only "llama3" scaling (or none/"default") is.`);
  }
  const num = (key: string): number => {
    const v = raw[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(`rope_scaling.${key} is ${JSON.stringify(v)}; expected a positive number.`);
    return v as number;
  };
  const factor = num('factor');
  const lowFreqFactor = num('low_freq_factor');
  const highFreqFactor = num('high_freq_factor');
  if (highFreqFactor <= lowFreqFactor) {
    fail(`rope_scaling.high_freq_factor (${highFreqFactor}) must be greater than low_freq_factor (${lowFreqFactor}).`);
  }
  const original = raw.original_max_position_embeddings;
  if (!Number.isSafeInteger(original) || (original as number) < 1) {
    fail(`rope_scaling.original_max_position_embeddings is ${JSON.stringify(original)}; expected a positive integer.`);
  }
  return { type: 'llama3', factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: original as number };
}

/** An id or a list of ids, each in [0, vocabSize). */
function tokenIds(v: unknown, file: string, key: string, vocabSize: number, single = false): number[] {
  const list = Array.isArray(v) && !single ? v : [v];
  for (const id of list) {
    if (!Number.isSafeInteger(id) || (id as number) < 0 || (id as number) >= vocabSize) {
      throw new ConfigError(
        `${file}: ${key} is ${JSON.stringify(v)}; expected ${single ? 'an integer' : 'an integer or a list of integers'} in [0, vocab_size ${vocabSize}).`,
      );
    }
  }
  return [...new Set(list as number[])];
}

// ---------------------------------------------------------------------------------------------------------
// Weights

export interface ExpectedWeight {
  name: string;
  shape: number[];
}

/**
 * Every tensor a checkpoint for `config` must hold, with HF's names and [out, in] shapes (Qwen2's q/k/v
 * biases after their weights, in state_dict order).
 */
export function expectedWeights(config: LlamaConfig): ExpectedWeight[] {
  const { vocabSize: V, hiddenSize: C, intermediateSize: F, numHeads: H, numKvHeads: K, headDim: D } = config;
  const out: ExpectedWeight[] = [{ name: 'model.embed_tokens.weight', shape: [V, C] }];
  const projection = (name: string, Cout: number, Cin: number, bias: boolean): ExpectedWeight[] => [
    { name: `${name}.weight`, shape: [Cout, Cin] },
    ...(bias ? [{ name: `${name}.bias`, shape: [Cout] }] : []),
  ];
  for (let i = 0; i < config.numLayers; i++) {
    const p = `model.layers.${i}`;
    out.push(
      { name: `${p}.input_layernorm.weight`, shape: [C] },
      ...projection(`${p}.self_attn.q_proj`, H * D, C, config.qkvBias),
      ...projection(`${p}.self_attn.k_proj`, K * D, C, config.qkvBias),
      ...projection(`${p}.self_attn.v_proj`, K * D, C, config.qkvBias),
      { name: `${p}.self_attn.o_proj.weight`, shape: [C, H * D] },
      { name: `${p}.post_attention_layernorm.weight`, shape: [C] },
      { name: `${p}.mlp.gate_proj.weight`, shape: [F, C] },
      { name: `${p}.mlp.up_proj.weight`, shape: [F, C] },
      { name: `${p}.mlp.down_proj.weight`, shape: [C, F] },
    );
  }
  out.push({ name: 'model.norm.weight', shape: [C] });
  if (!config.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [V, C] });
  return out;
}

/** What validateWeights needs of a checkpoint (a SafetensorsCollection fits). */
export interface WeightSource {
  readonly source: string;
  readonly names: readonly string[];
  info(name: string): { dtype: SafetensorsDType; shape: readonly number[]; file: string };
}

const WEIGHT_DTYPES: readonly SafetensorsDType[] = ['BF16', 'F16', 'F32'];

/**
 * Checks that the checkpoint holds every weight `config` needs, with the right shape and a float dtype;
 * throws one error listing every problem. Layers beyond num_hidden_layers are a problem too (the config is
 * probably wrong). Returns the names the model will not use (e.g. a tied lm_head.weight, rotary buffers).
 */
export function validateWeights(config: LlamaConfig, weights: WeightSource): { unused: string[] } {
  const problems: string[] = [];
  const expected = expectedWeights(config);
  const wanted = new Set(expected.map((w) => w.name));
  const present = new Set(weights.names);
  for (const { name, shape } of expected) {
    if (!present.has(name)) {
      problems.push(`missing tensor "${name}" (expected shape [${shape.join(', ')}])`);
      continue;
    }
    const info = weights.info(name);
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      problems.push(`"${name}" in ${info.file}: expected shape [${shape.join(', ')}], found [${info.shape.join(', ')}]`);
    }
    if (!WEIGHT_DTYPES.includes(info.dtype)) {
      problems.push(`"${name}" in ${info.file}: dtype ${info.dtype} is not supported for weights (BF16, F16 or F32)`);
    }
  }
  const unused = weights.names.filter((n) => !wanted.has(n));
  for (const name of unused) {
    const layer = /^model\.layers\.(\d+)\./.exec(name);
    if (layer && Number(layer[1]) >= config.numLayers) {
      problems.push(`"${name}" belongs to layer ${layer[1]}, but the config has num_hidden_layers ${config.numLayers}`);
    }
  }
  if (problems.length) {
    const shown = problems.slice(0, 40);
    throw new ConfigError(
      `${weights.source}: the config and the weights don't match (${problems.length} problem(s)):\n  - ${shown.join('\n  - ')}` +
        (problems.length > shown.length ? `\n  - … and ${problems.length - shown.length} more` : '') +
        `\nCheck that config.json belongs to this checkpoint.`,
    );
  }
  return { unused };
}

/** Bytes the weights take in `dtype` (e.g. to decide whether a model fits). */
export function weightBytes(config: LlamaConfig, dtype: SafetensorsDType = 'BF16'): number {
  return expectedWeights(config).reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0) * DTYPE_BYTES[dtype];
}

// ---------------------------------------------------------------------------------------------------------
// Writing

/**
 * Writes `dir/config.json` in the form transformers' LlamaConfig / Qwen2Config.save_pretrained produces
 * (sorted keys).
 */
export async function writeLlamaConfig(dir: string, config: LlamaConfig): Promise<void> {
  // Fields that are floats in Python are written with a decimal point, as Python's json module does, so
  // that transformers' type checks (e.g. rope_scaling.factor must be a float) see floats.
  const float = (v: number) => new PyFloat(v);
  const shared: Record<string, unknown> = {
    architectures: [ARCHITECTURE_CLASS[config.architecture]],
    attention_dropout: float(0),
    bos_token_id: config.bosTokenId,
    eos_token_id: config.eosTokenIds.length === 0 ? null : config.eosTokenIds.length === 1 ? config.eosTokenIds[0] : config.eosTokenIds,
    hidden_act: 'silu',
    hidden_size: config.hiddenSize,
    initializer_range: float(0.02),
    intermediate_size: config.intermediateSize,
    max_position_embeddings: config.maxPositionEmbeddings,
    model_type: config.architecture,
    num_attention_heads: config.numHeads,
    num_hidden_layers: config.numLayers,
    num_key_value_heads: config.numKvHeads,
    rms_norm_eps: float(config.rmsNormEps),
    rope_scaling: config.ropeScaling && {
      factor: float(config.ropeScaling.factor),
      high_freq_factor: float(config.ropeScaling.highFreqFactor),
      low_freq_factor: float(config.ropeScaling.lowFreqFactor),
      original_max_position_embeddings: config.ropeScaling.originalMaxPositionEmbeddings,
      rope_type: 'llama3',
    },
    rope_theta: float(config.ropeTheta),
    tie_word_embeddings: config.tieWordEmbeddings,
    torch_dtype: config.torchDtype,
    use_cache: true,
    vocab_size: config.vocabSize,
  };
  const json: Record<string, unknown> =
    config.architecture === 'qwen2'
      ? {
          ...shared,
          // Qwen2Config has no head_dim field (it is hidden / heads); write one only where that is not so.
          ...(config.headDim !== config.hiddenSize / config.numHeads ? { head_dim: config.headDim } : {}),
          max_window_layers: config.maxWindowLayers ?? 28,
          sliding_window: config.slidingWindow === undefined ? 4096 : config.slidingWindow,
          use_sliding_window: false,
        }
      : { ...shared, attention_bias: false, head_dim: config.headDim, mlp_bias: false, pretraining_tp: 1 };
  if (config.padTokenId !== undefined) json.pad_token_id = config.padTokenId;
  // Validate what we are about to write by reading it back the way loadLlamaConfig will.
  const text = pythonJson(sortKeys(json)) + '\n';
  parseLlamaConfig(JSON.parse(text), join(dir, 'config.json'));
  await writeFileAtomically(join(dir, 'config.json'), text);
}

class PyFloat {
  constructor(readonly value: number) {}
}

function sortKeys(v: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, v[k]]),
  );
}

/** JSON with 2-space indent where PyFloat values keep a decimal point (32 → 32.0). */
function pythonJson(value: unknown, indent = ''): string {
  if (value instanceof PyFloat) {
    const s = JSON.stringify(value.value);
    return /^-?\d+$/.test(s) ? `${s}.0` : s;
  }
  if (Array.isArray(value)) {
    if (!value.length) return '[]';
    const inner = indent + '  ';
    return `[\n${value.map((v) => inner + pythonJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (!entries.length) return '{}';
    const inner = indent + '  ';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pythonJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

async function readJson(file: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (!required && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON (${(e as Error).message}).`);
  }
  if (jsonDepth(value) > MAX_JSON_DEPTH) throw new ConfigError(`${file}: nested more than ${MAX_JSON_DEPTH} levels deep; not a config file.`);
  return value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
