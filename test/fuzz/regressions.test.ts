// What the fuzz campaigns found, one small case each: before the fixes, every one of these crashed, hung,
// or was accepted without a word.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadLlamaConfig } from '../../src/io/hf-config.ts';
import { SafetensorsError, openSafetensors } from '../../src/io/safetensors.ts';
import { TokenizerError, loadTokenizer } from '../../src/io/tokenizer.ts';
import { loadArcTasks } from '../../src/seal/arc/arc-data.ts';
import { DataError, readExamples } from '../../src/train/examples.ts';
import { AdapterError, readAdapterConfig } from '../../src/train/lora.ts';
import { byteTokenizerJson } from '../helpers/byte-tokenizer.ts';
import { fixtureJson } from '../model/fixture.ts';

const work = mkdtempSync(join(tmpdir(), 'fuzz-regressions-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** JSON text of `value` with an array nested 20,000 deep where "DEEP" stands: JSON.parse reads it, JSON.stringify cannot write it back. */
const withDeep = (value: unknown) => JSON.stringify(value).replace('"DEEP"', `${'['.repeat(20_000)}0${']'.repeat(20_000)}`);

/** A fresh folder holding `files`. */
function folder(name: string, files: Record<string, string>): string {
  const d = join(work, name);
  mkdirSync(d, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(d, file), text);
  return d;
}

describe('bugs the fuzzer found', () => {
  it('a value nested too deeply to print, in a safetensors header, ARC grid or config.json, is named (was a RangeError: stack overflow)', async () => {
    const text = new TextEncoder().encode(withDeep({ t: { dtype: 'F32', shape: 'DEEP', data_offsets: [0, 4] } }));
    const file = new Uint8Array(8 + text.length + 4);
    new DataView(file.buffer).setBigUint64(0, BigInt(text.length), true);
    file.set(text, 8);
    writeFileSync(join(work, 'deep.safetensors'), file);
    await expect(openSafetensors(join(work, 'deep.safetensors'))).rejects.toThrow(
      new SafetensorsError(
        `${join(work, 'deep.safetensors')}: tensor "t": "shape" is a value nested too deeply to print; it must be a list of non-negative integers.`,
      ),
    );

    const arc = folder('arc', { 'c.json': withDeep({ t: { train: [{ input: [[0]], output: [['DEEP']] }], test: [{ input: [[0]] }] } }) });
    expect(() => loadArcTasks(join(arc, 'c.json'))).toThrow(/task t: train\[0\]\.output: cell \[0\]\[0\] is a value nested too deeply to print/);

    const config = folder('config', { 'config.json': withDeep({ ...fixtureJson<object>('config.json'), rope_theta: 'DEEP' }) });
    await expect(loadLlamaConfig(config)).rejects.toThrow(
      new ConfigError(`${join(config, 'config.json')}: nested more than 1000 levels deep; not a config file.`),
    );
  });

  it('a token id far beyond the vocabulary is refused at once (the tokenizers library walked an array up to it: a hang)', async () => {
    const json = byteTokenizerJson(300) as { model: { vocab: Record<string, number> } };
    json.model.vocab.a = 2 ** 31;
    const dir = folder('tokenizer', { 'tokenizer.json': JSON.stringify(json), 'tokenizer_config.json': '{}' });
    await expect(loadTokenizer(dir)).rejects.toThrow(TokenizerError);
    await expect(loadTokenizer(dir)).rejects.toThrow(/token "a" has id 2147483648; ids are integers in \[0, 300\)/);
  });

  it('adapter_config.json variants that change what the weights mean are refused by name (were read as a plain LoRA)', async () => {
    const base = fixtureJson('adapter_config.json');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ bias: 'all' }, /"bias" is "all": LoRA bias terms are not supported/],
      [{ fan_in_fan_out: true }, /"fan_in_fan_out" is true/],
      [{ modules_to_save: ['lm_head'] }, /"modules_to_save" is \["lm_head"\]: extra saved modules/],
      [{ layers_to_transform: [0] }, /"layers_to_transform" is \[0\]: adapting only some layers/],
      [{ r: '4' }, /"r" is "4"; the rank must be a positive integer/],
      [{ lora_dropout: 1 }, /"lora_dropout" is 1; expected a number in \[0, 1\)/],
      [{ target_modules: ['q_proj', 7] }, /"target_modules": LoRA: target module 7 does not exist/],
    ];
    for (const [change, message] of cases) {
      const dir = folder('adapter', { 'adapter_config.json': JSON.stringify({ ...base, ...change }) });
      await expect(readAdapterConfig(dir), JSON.stringify(change)).rejects.toThrow(AdapterError);
      await expect(readAdapterConfig(dir), JSON.stringify(change)).rejects.toThrow(message);
    }
    // PEFT's defaults fill what a file leaves out (r 8, lora_alpha 8, lora_dropout 0).
    const { r, lora_alpha, ...rest } = base;
    const dir = folder('adapter', { 'adapter_config.json': JSON.stringify(rest) });
    expect(await readAdapterConfig(dir)).toMatchObject({ r: 8, alpha: 8, dropout: 0 });
  });

  it('pre-tokenised lines with ids outside the vocabulary, odd labels or a mask of other than 0s and 1s are refused (were accepted)', async () => {
    const lines: [unknown, RegExp][] = [
      [{ input_ids: [1, 600] }, /"input_ids"\[1\] is 600; "input_ids" must be a list of token ids in \[0, 512\)/],
      [{ input_ids: [1, 2], labels: [-5, 2] }, /"labels"\[0\] is -5/],
      [{ input_ids: [1, 2, 3], attention_mask: [1, 2, 0] }, /"attention_mask"\[1\] is 2; "attention_mask" must be a list of 0s and 1s/],
      [{ input_ids: [1, 1e300] }, /"input_ids"\[1\] is 1e\+300/],
    ];
    for (const [line, message] of lines) {
      const file = join(work, 'data.jsonl');
      writeFileSync(file, `${JSON.stringify(line)}\n`);
      await expect(readExamples(file, null, { loss: 'all', appendEos: false, vocabSize: 512 })).rejects.toThrow(DataError);
      await expect(readExamples(file, null, { loss: 'all', appendEos: false, vocabSize: 512 })).rejects.toThrow(message);
    }
  });
});
