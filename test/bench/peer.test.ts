// bench/peer.ts: `--peer torch` parsing, which Pythons are tried, and (where a Python has torch) that the
// peer scripts run. Without torch the script tests are skipped, saying so: torch is never required.
import { describe, expect, it } from 'vitest';
import { findTorchPython, parsePeer, pythonCandidates, runPeer, torchHowto } from '../../bench/peer.ts';

describe('parsePeer', () => {
  it('takes --peer torch out of the arguments, wherever it is', () => {
    expect(parsePeer(['tiny', '--peer', 'torch', 'after'])).toEqual({ peer: 'torch', args: ['tiny', 'after'] });
    expect(parsePeer(['--peer=torch', '1024'])).toEqual({ peer: 'torch', args: ['1024'] });
    expect(parsePeer(['256', '512'])).toEqual({ peer: null, args: ['256', '512'] });
  });

  it('refuses an unknown or missing peer, naming the valid one', () => {
    expect(() => parsePeer(['tiny', '--peer', 'jax'])).toThrow(/"jax" is not a peer.*torch/);
    expect(() => parsePeer(['tiny', '--peer'])).toThrow(/needs a name.*torch/);
  });
});

describe('pythonCandidates', () => {
  it('is SEAL_PEER_PYTHON alone when set, else python3 then /usr/bin/python3', () => {
    expect(pythonCandidates({ SEAL_PEER_PYTHON: '/opt/py/bin/python' })).toEqual(['/opt/py/bin/python']);
    expect(pythonCandidates({})).toEqual(['python3', '/usr/bin/python3']);
    expect(torchHowto({})).toMatch(/tried python3, \/usr\/bin\/python3.*apt-get install python3-torch/);
  });
});

const python = findTorchPython();
const why = python ? `with torch ${python.torch} from ${python.python}` : `SKIPPED: ${torchHowto()}`;
if (!python) console.warn(`test/bench/peer.test.ts: peer scripts not run. ${torchHowto()}`);
const opts = { json: true, args: [] };

describe(`peer scripts (${why})`, () => {
  it.skipIf(!python)('bench/peers/lora.py trains a tiny shape for one step', () => {
    const V = 96;
    const r = runPeer<{ tok_per_s: number; step_s: number; loss: number; threads: number; steps: number }>(opts, 'lora', {
      hidden_size: 32,
      intermediate_size: 64,
      num_hidden_layers: 1,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 8,
      vocab_size: V,
      tie_word_embeddings: false,
      rope_theta: 10000,
      rms_norm_eps: 1e-5,
      lora: { r: 2, alpha: 4, targets: ['q_proj', 'v_proj', 'down_proj'] },
      batch: 2,
      seq: 8,
      steps: 1,
      warmup: 0,
    });
    expect(r).not.toBeNull();
    expect(r?.steps).toBe(1);
    expect(Number.isFinite(r?.tok_per_s) && (r?.tok_per_s ?? 0) > 0).toBe(true);
    expect(r?.threads).toBeGreaterThan(0);
    // Weights of N(0, 0.02²): the predictions are nearly uniform, the loss near ln V.
    expect(Math.abs((r?.loss ?? 0) - Math.log(V))).toBeLessThan(0.5);
  });

  it.skipIf(!python)('bench/peers/matmul.py times a small square product', () => {
    const r = runPeer<{ results: { n: number; gflops: number }[] }>(opts, 'matmul', { sizes: [32] });
    expect(r?.results.map((x) => x.n)).toEqual([32]);
    expect(r?.results[0].gflops).toBeGreaterThan(0);
  });
});
