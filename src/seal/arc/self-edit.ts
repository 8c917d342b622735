// A self-edit in the few-shot domain is a JSON configuration: which tool groups generate the test-time
// training data, and how to train on it. Parsing follows SEAL's self-edit.py: the whole completion must
// be JSON (json.loads, no extraction; otherwise SEAL samples again), and missing or invalid fields fall
// back to no augmentation and 0 epochs — a configuration that trains nothing and so earns reward 0.
import { ALL_TOOLS, NO_TOOLS, type ToolSelection } from './tools.ts';

export type TrainingStrategy = 'train_using_all_tokens' | 'train_using_output_tokens';

export const TRAINING_STRATEGIES: readonly TrainingStrategy[] = ['train_using_all_tokens', 'train_using_output_tokens'];

export interface SelfEditConfig {
  tools: ToolSelection;
  /** Loss on every token of a sequence, or on the assistant's answer only. */
  strategy: TrainingStrategy;
  learningRate: number;
  epochs: number;
}

export interface ParsedSelfEdit {
  /** The completion is a JSON object. When false, SEAL samples another self-edit. */
  parsed: boolean;
  /** The configuration after SEAL's fallbacks. */
  config: SelfEditConfig;
  /** One sentence per fallback that applied; any fallback means the self-edit earns reward 0. */
  fallbacks: string[];
  /** The parsed JSON, when there was some. */
  raw?: Record<string, unknown>;
}

/** The paper's Oracle TTT configuration: every tool, loss on the answer only, lr 1e-4, 2 epochs. */
export const ORACLE_SELF_EDIT: SelfEditConfig = {
  tools: ALL_TOOLS,
  strategy: 'train_using_output_tokens',
  learningRate: 1e-4,
  epochs: 2,
};

const TOOL_KEYS: Record<keyof ToolSelection, string> = {
  basic: 'use_basic_augmentations',
  size: 'use_size_augmentations',
  chain: 'use_chain_augmentations',
  repeat: 'use_repeat_augmentations',
};

const UNPARSED: SelfEditConfig = { tools: NO_TOOLS, strategy: 'train_using_all_tokens', learningRate: 0, epochs: 0 };

export function parseSelfEdit(completion: string): ParsedSelfEdit {
  let raw: unknown;
  try {
    raw = JSON.parse(completion);
  } catch (error) {
    return { parsed: false, config: UNPARSED, fallbacks: [`not JSON: ${(error as Error).message}`] };
  }
  if (!isPlainObject(raw)) {
    return { parsed: false, config: UNPARSED, fallbacks: ['the JSON is not an object'] };
  }

  const fallbacks: string[] = [];
  let tools: ToolSelection = NO_TOOLS;
  let epochsForcedToZero = false;
  const generation = raw.data_generation;
  const badTools = isPlainObject(generation) ? Object.values(TOOL_KEYS).filter((key) => typeof generation[key] !== 'boolean') : Object.values(TOOL_KEYS);
  if (badTools.length === 0 && isPlainObject(generation)) {
    tools = {
      basic: generation[TOOL_KEYS.basic] as boolean,
      size: generation[TOOL_KEYS.size] as boolean,
      chain: generation[TOOL_KEYS.chain] as boolean,
      repeat: generation[TOOL_KEYS.repeat] as boolean,
    };
  } else {
    fallbacks.push(`data_generation needs booleans ${badTools.join(', ')}: no augmentation, 0 epochs`);
    epochsForcedToZero = true;
  }

  const training = isPlainObject(raw.training) ? raw.training : {};
  const missing = ['strategy', 'learning_rate', 'num_train_epochs'].filter((key) => !(key in training));
  if (missing.length > 0) {
    fallbacks.push(`training lacks ${missing.join(', ')}: strategy train_using_all_tokens, learning rate 0, 0 epochs`);
    return { parsed: true, config: { tools, strategy: 'train_using_all_tokens', learningRate: 0, epochs: 0 }, fallbacks, raw };
  }

  let strategy: TrainingStrategy = 'train_using_all_tokens';
  if (TRAINING_STRATEGIES.includes(training.strategy as TrainingStrategy)) {
    strategy = training.strategy as TrainingStrategy;
  } else {
    fallbacks.push(`strategy ${JSON.stringify(training.strategy)} is not one of ${TRAINING_STRATEGIES.join(', ')}: 0 epochs`);
    epochsForcedToZero = true;
  }
  let learningRate = 0;
  if (isNonNegativeNumber(training.learning_rate)) {
    learningRate = training.learning_rate;
  } else {
    fallbacks.push(`learning_rate ${JSON.stringify(training.learning_rate)} is not a non-negative number: 0 epochs`);
    epochsForcedToZero = true;
  }
  let epochs = 0;
  if (isNonNegativeNumber(training.num_train_epochs)) {
    epochs = training.num_train_epochs;
  } else {
    fallbacks.push(`num_train_epochs ${JSON.stringify(training.num_train_epochs)} is not a non-negative number: 0 epochs`);
    epochsForcedToZero = true;
  }
  return { parsed: true, config: { tools, strategy, learningRate, epochs: epochsForcedToZero ? 0 : epochs }, fallbacks, raw };
}

/** The self-edit as JSON in the layout the prompt asks for. */
export function formatSelfEdit(config: SelfEditConfig): string {
  const dataGeneration = Object.fromEntries((Object.keys(TOOL_KEYS) as (keyof ToolSelection)[]).map((group) => [TOOL_KEYS[group], config.tools[group]]));
  const training = { strategy: config.strategy, learning_rate: config.learningRate, num_train_epochs: config.epochs };
  return JSON.stringify({ data_generation: dataGeneration, training }, null, 2);
}

/**
 * A key under which repeated configurations of one task compare equal (SEAL's skip_repeated_configs): the
 * raw `data_generation` and `training` objects with their keys sorted.
 */
export function selfEditKey(selfEdit: ParsedSelfEdit): string {
  return canonicalJson({ data_generation: selfEdit.raw?.data_generation, training: selfEdit.raw?.training });
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
