// Fuzzing the readers of a model folder's small JSON files: config.json (+ generation_config.json) by
// src/io/hf-config.ts, tokenizer.json + tokenizer_config.json by src/io/tokenizer.ts, and a PEFT
// adapter_config.json by src/train/lora.ts readAdapterConfig. Each class says what a valid file is (the
// rules transformers and PEFT apply to the fields we read); an accepted file must give the values it holds.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { ChatTemplateError } from '../../src/io/chat-template.ts';
import { ConfigError, loadLlamaConfig } from '../../src/io/hf-config.ts';
import { TokenizerError, loadTokenizer } from '../../src/io/tokenizer.ts';
import { PROJECTIONS } from '../../src/model/llama.ts';
import { AdapterError, readAdapterConfig } from '../../src/train/lora.ts';
import { byteTokenizerJson } from '../helpers/byte-tokenizer.ts';
import { MAX_JSON_DEPTH, jsonDepth } from '../../src/util/json.ts';
import { FIXTURE } from '../model/fixture.ts';
import { Inconsistent, isObject, runCampaign, tryParse } from './campaign.ts';
import { mutateJsonDocument } from './mutate.ts';

const work = mkdtempSync(join(tmpdir(), 'fuzz-configs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const ROOT = join(import.meta.dirname, '..', '..');
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const folder = (name: string, i: number) => {
  const dir = join(work, `${name}-${i % 4}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

// ---------------------------------------------------------------------------------------------------------
// config.json

/**
 * What a Llama config.json must say for us (and transformers' LlamaConfig) to build the model it describes.
 * null stands for an absent optional field, as in transformers. Returns the fields the reader must give.
 */
function llamaConfigOracle(c: unknown, gen: unknown): Record<string, unknown> | null {
  if (!isObject(c)) return null;
  const given = (k: string) => c[k] !== undefined && c[k] !== null;
  const int = (v: unknown, min = 1) => Number.isSafeInteger(v) && (v as number) >= min;
  const positive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (c.model_type !== undefined && c.model_type !== 'llama') return null;
  if (given('architectures') && !(Array.isArray(c.architectures) && c.architectures.includes('LlamaForCausalLM'))) return null;
  if (given('hidden_act') && c.hidden_act !== 'silu') return null;
  if ((given('attention_bias') && c.attention_bias !== false) || (given('mlp_bias') && c.mlp_bias !== false)) return null;
  for (const k of ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads']) if (!int(c[k])) return null;
  const heads = c.num_attention_heads;
  const kvHeads = given('num_key_value_heads') ? c.num_key_value_heads : heads;
  if (!int(kvHeads) || heads % kvHeads) return null;
  if (given('head_dim') ? !int(c.head_dim) : c.hidden_size % heads) return null;
  if (given('max_position_embeddings') && !int(c.max_position_embeddings)) return null;
  if (given('rms_norm_eps') && !positive(c.rms_norm_eps)) return null;
  const params = isObject(c.rope_parameters) ? c.rope_parameters : {};
  const theta = given('rope_theta') ? c.rope_theta : (params.rope_theta ?? 10000);
  if (!positive(theta)) return null;
  if (given('tie_word_embeddings') && typeof c.tie_word_embeddings !== 'boolean') return null;
  const dtype = c.torch_dtype ?? c.dtype ?? 'float32';
  if (!['bfloat16', 'float16', 'float32'].includes(dtype)) return null;
  const scaling = c.rope_scaling ?? (isObject(c.rope_parameters) ? c.rope_parameters : null);
  if (scaling !== null) {
    if (!isObject(scaling)) return null;
    const kind = scaling.rope_type ?? scaling.type ?? 'default';
    if (kind !== 'default') {
      if (kind !== 'llama3') return null;
      const { factor, low_freq_factor: low, high_freq_factor: high, original_max_position_embeddings: original } = scaling;
      if (!positive(factor) || !positive(low) || !positive(high) || high <= low || !int(original)) return null;
    }
  }
  const V = c.vocab_size;
  const id = (v: unknown) => int(v, 0) && (v as number) < V;
  const ids = (v: unknown) => (Array.isArray(v) ? v.every(id) : id(v));
  if (c.bos_token_id !== undefined && c.bos_token_id !== null && !id(c.bos_token_id)) return null;
  if (c.eos_token_id !== undefined && c.eos_token_id !== null && !ids(c.eos_token_id)) return null;
  if (given('pad_token_id') && !id(c.pad_token_id)) return null;
  if (gen !== undefined) {
    if (!isObject(gen)) return null;
    if (gen.eos_token_id !== undefined && gen.eos_token_id !== null && !ids(gen.eos_token_id)) return null;
  }
  return {
    vocabSize: V,
    hiddenSize: c.hidden_size,
    intermediateSize: c.intermediate_size,
    numLayers: c.num_hidden_layers,
    numHeads: heads,
    numKvHeads: kvHeads,
    headDim: given('head_dim') ? c.head_dim : c.hidden_size / heads,
    ropeTheta: theta,
    torchDtype: dtype,
  };
}

// ---------------------------------------------------------------------------------------------------------
// adapter_config.json

/**
 * What PEFT's LoraConfig must say for a plain LoRA we can load: rank, alpha and dropout (PEFT's defaults 8,
 * 8, 0 when absent), target modules (PEFT's default for a Llama when absent), and none of the variants that change what the weights mean.
 */
function adapterOracle(a: unknown): Record<string, unknown> | null {
  if (!isObject(a)) return null;
  const set = (k: string) => a[k] !== undefined && a[k] !== null;
  if (set('peft_type') && a.peft_type !== 'LORA') return null;
  const r = set('r') ? a.r : 8;
  if (!Number.isSafeInteger(r) || r < 1) return null;
  const alpha = set('lora_alpha') ? a.lora_alpha : 8;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) return null;
  const dropout = set('lora_dropout') ? a.lora_dropout : 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) return null;
  for (const k of ['use_dora', 'use_rslora', 'fan_in_fan_out']) if (set(k) && a[k] !== false) return null;
  if (set('bias') && a.bias !== 'none') return null;
  for (const k of ['rank_pattern', 'alpha_pattern']) if (set(k) && !(isObject(a[k]) && Object.keys(a[k]).length === 0)) return null;
  for (const k of ['modules_to_save', 'layers_to_transform', 'layer_replication']) if (set(k)) return null;
  // Absent or null: PEFT's default for the architecture (llama: q_proj, v_proj).
  const targets = !set('target_modules') ? ['q_proj', 'v_proj'] : a.target_modules === 'all-linear' ? [...PROJECTIONS] : a.target_modules;
  if (!Array.isArray(targets) || !targets.length || !targets.every((t) => (PROJECTIONS as readonly unknown[]).includes(t))) return null;
  return { r, alpha, dropout, targets: [...new Set(targets)] };
}

// ---------------------------------------------------------------------------------------------------------
// tokenizer.json + tokenizer_config.json

const TOKENIZER_SEEDS = [
  { tokenizer: readJson(join(ROOT, 'weights/seal-tiny/tokenizer.json')), config: readJson(join(ROOT, 'weights/seal-tiny/tokenizer_config.json')) },
  {
    tokenizer: byteTokenizerJson(300),
    config: {
      bos_token: '<s>',
      eos_token: { content: '</s>', special: true },
      pad_token: '<pad>',
      chat_template:
        "{{ bos_token }}{% for m in messages %}{{ '<' + m['role'] + '>\\n' + m['content'] + eos_token }}{% endfor %}{% if add_generation_prompt %}{{ '<assistant>\\n' }}{% endif %}",
    },
  },
];
const PROBE = 'Ada was born in 1815 in London.';

describe('fuzzing the model-folder JSON readers', { timeout: 300_000 }, () => {
  it('config.json (and generation_config.json): 1,500 mutated files', async () => {
    const seeds = [readJson(join(FIXTURE, 'config.json')), readJson(join(ROOT, 'weights/seal-tiny/config.json'))];
    type Case = { config: string; gen?: string };
    await runCampaign<Case>({
      name: 'config.json',
      seed: 3,
      cases: 1500,
      make(rng) {
        if (rng.uniform() < 0.15) {
          const { value, kinds } = mutateJsonDocument(rng, { eos_token_id: [2, 1], bos_token_id: 1 });
          return { value: { config: JSON.stringify(rng.pick(seeds)), gen: value }, kinds: kinds.map((k) => `generation_config:${k}`) };
        }
        const m = mutateJsonDocument(rng, rng.pick(seeds));
        return { value: { config: m.value }, kinds: m.kinds };
      },
      valid(c) {
        const config = tryParse(c.config);
        const gen = c.gen === undefined ? { ok: true as const, value: undefined } : tryParse(c.gen);
        // Python's json module cannot read a file nested deeper than ~1,000 levels, so neither can transformers.
        if (!config.ok || !gen.ok || jsonDepth(config.value) > MAX_JSON_DEPTH || jsonDepth(gen.value) > MAX_JSON_DEPTH) return false;
        return llamaConfigOracle(config.value, gen.value) !== null;
      },
      async run(c, i) {
        const dir = folder('config', i);
        writeFileSync(join(dir, 'config.json'), c.config);
        if (c.gen === undefined) rmSync(join(dir, 'generation_config.json'), { force: true });
        else writeFileSync(join(dir, 'generation_config.json'), c.gen);
        const got = await loadLlamaConfig(dir);
        const want = llamaConfigOracle(JSON.parse(c.config), c.gen === undefined ? undefined : JSON.parse(c.gen))!;
        for (const [k, v] of Object.entries(want)) {
          if ((got as unknown as Record<string, unknown>)[k] !== v) throw new Inconsistent(`${k} is ${(got as any)[k]}, the file says ${v}`);
        }
        if (!got.eosTokenIds.every((id) => Number.isSafeInteger(id) && id >= 0 && id < got.vocabSize)) throw new Inconsistent(`eos ids ${got.eosTokenIds}`);
      },
      errors: [ConfigError],
      names: (i) => join(work, `config-${i % 4}`),
    });
  });

  it('adapter_config.json: 1,000 mutated files', async () => {
    const seed = readJson(join(FIXTURE, 'adapter_config.json'));
    await runCampaign<string>({
      name: 'adapter_config.json',
      seed: 4,
      cases: 1000,
      make: (rng) => mutateJsonDocument(rng, seed),
      valid(text) {
        const p = tryParse(text);
        return p.ok && adapterOracle(p.value) !== null;
      },
      async run(text, i) {
        const dir = folder('adapter', i);
        writeFileSync(join(dir, 'adapter_config.json'), text);
        const got = await readAdapterConfig(dir);
        const want = adapterOracle(JSON.parse(text))!;
        if (JSON.stringify(got) !== JSON.stringify(want)) throw new Inconsistent(`read ${JSON.stringify(got)}, the file says ${JSON.stringify(want)}`);
      },
      errors: [AdapterError],
      names: (i) => join(work, `adapter-${i % 4}`),
    });
  });

  it('tokenizer.json and tokenizer_config.json: 1,000 mutated files', async () => {
    type Case = { tokenizer: string; config: string };
    await runCampaign<Case>({
      name: 'tokenizer',
      seed: 5,
      cases: 1000,
      make(rng) {
        const seed = rng.pick(TOKENIZER_SEEDS);
        const which = rng.uniform() < 0.7 ? 'tokenizer' : 'config';
        const { value, kinds } = mutateJsonDocument(rng, seed[which], 2);
        const other = JSON.stringify(seed[which === 'tokenizer' ? 'config' : 'tokenizer']);
        return {
          value: which === 'tokenizer' ? { tokenizer: value, config: other } : { tokenizer: other, config: value },
          kinds: kinds.map((k) => `${which}:${k}`),
        };
      },
      // Which tokenizer.json files the tokenizers library can run is its own business: either outcome is
      // allowed, as long as a rejection is named and an acceptance works.
      valid: () => null,
      async run(c, i) {
        const dir = folder('tokenizer', i);
        writeFileSync(join(dir, 'tokenizer.json'), c.tokenizer);
        writeFileSync(join(dir, 'tokenizer_config.json'), c.config);
        const tok = await loadTokenizer(dir, { now: () => new Date(0) });
        const ids = tok.encode(PROBE, { addBos: tok.bosId !== null });
        if (!ids.every((id) => Number.isSafeInteger(id) && id >= 0 && id < tok.vocabSize))
          throw new Inconsistent(`encode gave ids outside [0, ${tok.vocabSize}): ${ids.slice(0, 10)}`);
        if (typeof tok.decode(ids) !== 'string') throw new Inconsistent('decode gave no string');
        for (const id of [tok.bosId, tok.padId, ...tok.eosIds]) {
          if (id !== null && id !== undefined && !(Number.isSafeInteger(id) && id >= 0 && id < tok.vocabSize)) throw new Inconsistent(`special id ${id}`);
        }
        if (tok.hasChatTemplate) tok.encodeChat([{ role: 'user', content: PROBE }], { addGenerationPrompt: true });
      },
      errors: [TokenizerError, ChatTemplateError],
      names: (i) => join(work, `tokenizer-${i % 4}`),
    });
  });
});
