// SEAL's knowledge-incorporation score (query_server.py): per passage, the fraction of its questions
// answered correctly; overall, the mean of those per-passage accuracies (a macro average, so every passage
// weighs the same however many questions it has), with the sample standard deviation across passages.

export interface MeanStd {
  mean: number;
  /** Sample standard deviation (n − 1), as Python's statistics.stdev; 0 for fewer than two values. */
  std: number;
  n: number;
}

/** The fraction of true verdicts; 0 for a passage without questions, as SEAL does. */
export function passageAccuracy(verdicts: readonly boolean[]): number {
  return verdicts.length === 0 ? 0 : verdicts.filter(Boolean).length / verdicts.length;
}

export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  if (n === 0) return { mean: 0, std: 0, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n < 2 ? 0 : Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  return { mean, std, n };
}

/** The macro-averaged accuracy over passages, from each passage's per-question verdicts. */
export function macroAccuracy(verdictsByPassage: ReadonlyArray<readonly boolean[]>): MeanStd {
  return meanStd(verdictsByPassage.map(passageAccuracy));
}
