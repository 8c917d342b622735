// Rendering a model's chat template (tokenizer_config.json's Jinja `chat_template`) the way transformers'
// apply_chat_template does: the template sees `messages`, `add_generation_prompt`, `tools` and `documents`
// (None unless given), the special-token strings (bos_token, eos_token, …), any extra keyword variables,
// and the helpers raise_exception() and strftime_now(). Llama-3.1/3.2 templates print
// "Today Date: <strftime_now('%d %b %Y')>", so the clock is an option here, to make renders reproducible.
import { Environment, Interpreter, Template } from '@huggingface/jinja';

export interface ChatMessage {
  role: string;
  content: string;
}

export interface ChatTemplateOptions {
  /** End with the assistant header, ready for generation (HF's add_generation_prompt). Default false. */
  addGenerationPrompt?: boolean;
  /** The moment strftime_now() formats, read in local time like Python's datetime.now(). Default: now. */
  now?: Date;
  /** Tool schemas for templates that support them (HF's `tools`). */
  tools?: unknown[] | null;
  /** More template variables, as apply_chat_template's **kwargs (e.g. {date_string: '26 Jul 2024'}). */
  variables?: Record<string, unknown>;
}

export class ChatTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChatTemplateError';
  }
}

export class ChatTemplate {
  private readonly template: Template;

  /**
   * `source` is the Jinja text; `specialTokens` the strings the template may use (bos_token, eos_token,
   * pad_token, unk_token); `origin` names the file it came from, for errors.
   */
  constructor(
    readonly source: string,
    private readonly specialTokens: Record<string, string>,
    private readonly origin: string,
  ) {
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new ChatTemplateError(`${origin}: the chat template does not parse (${(e as Error).message}).`);
    }
  }

  render(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    checkMessages(messages, this.origin);
    const now = options.now ?? new Date();
    const context: Record<string, unknown> = {
      ...JINJA_CONSTANTS,
      range: pythonRange,
      raise_exception: (message: string) => {
        throw new ChatTemplateError(`${this.origin}: the chat template refused the conversation: ${message}`);
      },
      strftime_now: (format: string) => strftime(now, format),
      ...this.specialTokens,
      ...options.variables,
      messages: messages.map((m) => ({ ...m })),
      tools: options.tools ?? null,
      documents: null,
      add_generation_prompt: options.addGenerationPrompt ?? false,
    };
    try {
      // Template.render() would declare its own strftime_now (locale-dependent month names, always the real
      // clock) and refuse ours, so the environment is built here with the same constants.
      const env = new Environment();
      for (const [k, v] of Object.entries(context)) env.set(k, v);
      return new Interpreter(env).run(this.template.parsed).value as string;
    } catch (e) {
      if (e instanceof ChatTemplateError) throw e;
      throw new ChatTemplateError(`${this.origin}: rendering the chat template failed (${(e as Error).message}).`);
    }
  }
}

const JINJA_CONSTANTS = { true: true, false: false, none: null, True: true, False: false, None: null };

/** Python's range(stop) / range(start, stop[, step]). */
function pythonRange(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new ChatTemplateError('range(): step must not be zero');
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

function checkMessages(messages: readonly ChatMessage[], origin: string): void {
  if (!Array.isArray(messages)) throw new ChatTemplateError(`${origin}: messages must be a list of {role, content}.`);
  messages.forEach((m, i) => {
    if (typeof m !== 'object' || m === null || typeof m.role !== 'string' || typeof m.content !== 'string') {
      throw new ChatTemplateError(`${origin}: message ${i} is ${JSON.stringify(m)}; expected {role: string, content: string}.`);
    }
  });
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * Python's datetime.strftime in the C locale (English names, whatever the machine's locale), for the
 * directives chat templates use. Unknown directives are an error rather than a silently wrong date.
 */
export function strftime(date: Date, format: string): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const hour12 = date.getHours() % 12 || 12;
  const dayOfYear = Math.round((Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()) - Date.UTC(date.getFullYear(), 0, 1)) / 86_400_000) + 1;
  return format.replace(/%(.)/gs, (match, d: string) => {
    switch (d) {
      case 'a':
        return DAYS[date.getDay()].slice(0, 3);
      case 'A':
        return DAYS[date.getDay()];
      case 'b':
        return MONTHS[date.getMonth()].slice(0, 3);
      case 'B':
        return MONTHS[date.getMonth()];
      case 'd':
        return pad(date.getDate());
      case 'm':
        return pad(date.getMonth() + 1);
      case 'y':
        return pad(date.getFullYear() % 100);
      case 'Y':
        return String(date.getFullYear());
      case 'H':
        return pad(date.getHours());
      case 'I':
        return pad(hour12);
      case 'p':
        return date.getHours() < 12 ? 'AM' : 'PM';
      case 'M':
        return pad(date.getMinutes());
      case 'S':
        return pad(date.getSeconds());
      case 'j':
        return pad(dayOfYear, 3);
      case '%':
        return '%';
      default:
        throw new ChatTemplateError(`strftime_now: the directive ${match} is not supported.`);
    }
  });
}
