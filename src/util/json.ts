// Limits for JSON read from files, shared by every reader. JSON.parse reads arrays nested a million deep,
// but JSON.stringify overflows the stack on ten thousand, and so would any recursive walk: an error message
// quoting such a value would crash instead of naming the problem.

/** Python's json module gives up near 1,000 levels, so no file transformers or PEFT can read nests deeper. */
export const MAX_JSON_DEPTH = 1000;

/** `value` as JSON for an error message, at most `max` characters. */
export function jsonSnippet(value: unknown, max = 80): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return 'a value nested too deeply to print';
  }
  if (text === undefined) return String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** How deeply arrays and objects nest in `value` (0 for a scalar); walks iteratively, stops past `limit`. */
export function jsonDepth(value: unknown, limit = MAX_JSON_DEPTH): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}
