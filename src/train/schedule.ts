// Learning-rate schedules as Hugging Face's get_*_schedule_with_warmup compute them (LambdaLR): the
// optimiser step with index s (0-based) uses lr · λ(s); warmup rises linearly from 0.
export const SCHEDULES = ['constant', 'linear', 'cosine'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

export function learningRate(schedule: ScheduleName, lr: number, step: number, totalSteps: number, warmupSteps = 0): number {
  if (step < warmupSteps) return (lr * step) / Math.max(1, warmupSteps);
  switch (schedule) {
    case 'constant':
      return lr;
    case 'linear':
      return lr * Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
    case 'cosine': {
      const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
      return lr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
    }
    default:
      throw new Error(`Unknown schedule "${schedule}"; choose one of ${SCHEDULES.join(', ')}`);
  }
}
