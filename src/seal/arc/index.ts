// The few-shot ARC domain of SEAL, data side: tasks, the self-edit prompt and its parsing, the tools that
// generate test-time training data, the training plan, inference queries, voting, and the dry-run render.
export * from './arc-data.ts';
export * from './episode.ts';
export * from './few-shot-task.ts';
export * from './grid.ts';
export * from './grid-text.ts';
export * from './inference-queries.ts';
export * from './messages.ts';
export * from './policy-prompt.ts';
export * from './render.ts';
export * from './self-edit.ts';
export * from './tools.ts';
export * from './ttt-data.ts';
export * from './ttt-plan.ts';
export * from './voting.ts';
