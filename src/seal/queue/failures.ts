// Which failures belong to a unit, and what a failed unit scores.
//
// A unit fails for its own reasons when its data makes its inner loop fail wherever it runs: the loss
// diverges (TrainingDivergedError: a NaN or infinite loss), or its input is outside the model's range
// (RangeError: a self-edit whose sequence passes the model's context, say). Such a unit is recorded with
// score 0 — as an inner loop that answered nothing right (ARC: solved nothing) — and `details.failed`
// saying why; its self-edit's reward is the mean over its seeds as usual, and selection treats it like
// any other score. Side by side, one unit's NaN stops the whole chunk, so the chunk's units are then run
// alone, each recorded for itself (`details.ranAlone`: its score may differ from a side-by-side run's by
// float rounding). Any other error is the machine's (a lost device, a missing model folder): the job
// fails, and BullMQ retries it, on this worker or another.
import type { Domain, UnitResult } from '../loop.ts';
import { evaluateChunk } from '../loop.ts';
import type { Policy } from '../policy.ts';
import type { JsonValue } from '../run-dir.ts';
import { TrainingDivergedError } from '../../train/sft.ts';

export function isUnitFailure(e: unknown): e is Error {
  return e instanceof TrainingDivergedError || e instanceof RangeError;
}

export function failedUnit(e: Error): UnitResult {
  return { score: 0, details: { failed: `${e.name}: ${e.message}` } };
}

/** A chunk as the in-process loop runs it; when a unit's own failure stops it, each unit alone. */
export async function evaluateIsolating<C>(
  policy: Policy,
  domain: Domain<C>,
  chunk: { context: C; selfEdit: string; seed: number }[],
  wide: boolean,
  onProgress?: (fraction: number) => void,
): Promise<UnitResult[]> {
  try {
    return await evaluateChunk(policy, domain, chunk, wide, onProgress);
  } catch (e) {
    if (!isUnitFailure(e)) throw e;
    if (chunk.length === 1) return [failedUnit(e)];
    const results: UnitResult[] = [];
    for (const unit of chunk) {
      try {
        const [r] = await evaluateChunk(policy, domain, [unit], wide);
        results.push({ score: r.score, details: { ...asObject(r.details), ranAlone: true } });
      } catch (alone) {
        if (!isUnitFailure(alone)) throw alone;
        results.push(failedUnit(alone));
      }
      onProgress?.(results.length / chunk.length);
    }
    return results;
  }
}

function asObject(details: JsonValue | undefined): Record<string, JsonValue> {
  if (details === undefined || details === null) return {};
  return typeof details === 'object' && !Array.isArray(details) ? details : { value: details };
}
