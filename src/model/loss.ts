// The causal language-modelling loss in Hugging Face's convention: labels have the shape of the input
// ids and are shifted inside — logits[b, t] is scored against labels[b, t + 1]; −100 is ignored; the
// loss is the mean over every scored target of the batch.
import { IGNORE_INDEX, type Tensor, crossEntropy, linearCrossEntropy, tensor } from '../tensor/index.ts';

/** Shifted targets (B·T): labels[b][t + 1], and −100 at each row's last position. */
export function shiftedTargets(labels: number[][], vocabSize: number): number[] {
  const out: number[] = [];
  labels.forEach((row, b) => {
    for (let t = 0; t < row.length; t++) {
      const target = t + 1 < row.length ? row[t + 1] : IGNORE_INDEX;
      if (target !== IGNORE_INDEX && !(Number.isInteger(target) && target >= 0 && target < vocabSize)) {
        throw new RangeError(`label ${target} at row ${b}, position ${t + 1} is neither −100 nor a token id in [0, ${vocabSize})`);
      }
      out.push(target);
    }
  });
  return out;
}

// logits (B, T, V), labels B rows of T → loss ()
// With `rowWeights` (B), the loss is Σ_b w_b · Σ_t loss_bt instead of the mean: independent sequences
// trained in one batch, each averaged over its own targets (w_b = 1 / its scored targets).
export function causalLmLoss(logits: Tensor, labels: number[][], rowWeights?: number[]): Tensor {
  const V = logits.shape[logits.shape.length - 1];
  const { targets, weights } = lossTargets(labels, V, logits.size / V, `logits ${logits.describe()}`, rowWeights);
  return crossEntropy(logits.reshape([targets.size, V]), targets, weights);
}

// hidden (B·T, C) (the final norm's output), head (V, C), labels B rows of T → loss ()
// The same loss as causalLmLoss(linear(hidden, head), …), without the (B, T, V) logits (linearCrossEntropy).
export function causalLmLossFromHidden(hidden: Tensor, head: Tensor, labels: number[][], rowWeights?: number[]): Tensor {
  const [V, C] = head.shape;
  const { targets, weights } = lossTargets(labels, V, hidden.size / C, `hidden states ${hidden.describe()}`, rowWeights);
  return linearCrossEntropy(hidden, head, targets, weights);
}

function lossTargets(labels: number[][], V: number, rows: number, what: string, rowWeights?: number[]) {
  const targets = shiftedTargets(labels, V);
  if (targets.length !== rows) throw new RangeError(`causalLmLoss: labels (${labels.length} × ${labels[0]?.length}) do not match ${what}`);
  const T = labels[0].length;
  return {
    targets: tensor(targets, [targets.length], 'i32'),
    weights:
      rowWeights &&
      tensor(
        targets.map((_, i) => rowWeights[Math.floor(i / T)]),
        [targets.length],
      ),
  };
}

/** How many targets the loss scores (for token-weighted averages across batches). */
export function scoredTargets(labels: number[][]): number {
  return labels.reduce((n, row) => n + row.slice(1).filter((l) => l !== IGNORE_INDEX).length, 0);
}
