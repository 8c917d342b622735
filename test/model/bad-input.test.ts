// Bad input to the model layer: each error names the thing and the fix.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../../src/model/generate.ts';
import { loadLlama } from '../../src/model/load.ts';
import { LoraAdapter } from '../../src/train/lora.ts';
import { FIXTURE } from './fixture.ts';

describe('bad input to the model', () => {
  it('a missing folder, config or weights file', async () => {
    await expect(loadLlama('/nonexistent/model')).rejects.toThrow(/Model folder \/nonexistent\/model does not exist.*weights\/README\.md/);
    const empty = mkdtempSync(join(tmpdir(), 'empty-'));
    await expect(loadLlama(empty)).rejects.toThrow(/has no config\.json: it is not a Hugging Face model folder/);
    copyFileSync(join(FIXTURE, 'config.json'), join(empty, 'config.json'));
    await expect(loadLlama(empty)).rejects.toThrow(/safetensors/);
  });

  it('a config that does not match the tensors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mismatch-'));
    const config = JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, hidden_size: 128 }));
    copyFileSync(join(FIXTURE, 'model.safetensors'), join(dir, 'model.safetensors'));
    await expect(loadLlama(dir)).rejects.toThrow(
      /the config and the weights don't match[\s\S]*model\.embed_tokens\.weight.*expected shape \[512, 128\], found \[512, 64\]/,
    );
  });

  it('a token id outside the vocabulary, ragged rows, and a prompt longer than the context', async () => {
    const model = await loadLlama(FIXTURE);
    expect(() => model.forward({ ids: [[1, 600]] })).toThrow('token id 600 at row 0, position 1 is outside the vocabulary [0, 512)');
    expect(() => model.forward({ ids: [[1, 2], [1]] })).toThrow(/row 1 has 1 tokens, row 0 has 2; pad rows/);
    expect(() => model.forward({ ids: [[1]], positions: [[131072]] })).toThrow(/position 131072 is beyond the model's context of 131072 tokens/);
    await expect(generate(model, [[1, 2]], { maxNewTokens: 131071 })).rejects.toThrow(/exceed the model's context of 131072/);
    model.dispose();
  });

  it('no adapter where one is asked for', async () => {
    const model = await loadLlama(FIXTURE);
    await expect(LoraAdapter.load(model, mkdtempSync(join(tmpdir(), 'no-adapter-')))).rejects.toThrow(/No adapter at .*adapter_config\.json is missing/);
    expect(() => LoraAdapter.create(model, { r: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'qkv_proj' as never] })).toThrow(
      'LoRA: target module "qkv_proj" does not exist in a Llama or Qwen2 model; choose from q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj',
    );
    model.dispose();
  });
});
