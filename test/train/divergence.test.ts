// NaN/Inf in the loss: training stops, naming the step, and the last good adapter stays on disk.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLlama } from '../../src/model/load.ts';
import { LoraAdapter } from '../../src/train/lora.ts';
import { FIXTURE } from '../model/fixture.ts';

const ROOT = join(import.meta.dirname, '..', '..');

describe('a diverging fine-tune', () => {
  it('stops at the step whose loss is not finite and keeps the adapter from before it', async () => {
    const work = mkdtempSync(join(tmpdir(), 'diverge-'));
    // An initial adapter whose B holds an infinity: the very first loss is NaN.
    const model = await loadLlama(FIXTURE);
    const bad = LoraAdapter.create(model, { r: 2, alpha: 4, dropout: 0, targets: ['q_proj'] }, 0);
    const B = bad.parameters()[1];
    B.write(Float32Array.from({ length: B.size }, (_, i) => (i === 0 ? Infinity : 0)));
    await bad.save(join(work, 'bad'));
    bad.dispose();
    model.dispose();
    writeFileSync(join(work, 'data.jsonl'), '{"input_ids": [1, 5, 6, 7, 8]}\n');
    const out = join(work, 'out');
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, 'bin', 'seal.js'),
        'finetune',
        '--model',
        FIXTURE,
        '--data',
        join(work, 'data.jsonl'),
        '--out',
        out,
        '--init-adapter',
        join(work, 'bad'),
        '--steps',
        '3',
      ],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/The loss became NaN at step 1; training stopped before that step's update .* The last good adapter is in .*out/);
    expect(existsSync(join(out, 'adapter_model.safetensors'))).toBe(true);
  });
});
