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

/**
 * The keys of the top-level object in JSON `text`, in the order the text writes them. JSON.parse keeps
 * insertion order for objects except that keys which are array indices (all digits, like the ARC task
 * 59341089) come first, in numeric order; a reader that promises the file's order takes it from here.
 * `text` must already have parsed as an object (this only scans it).
 */
export function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = depth === 1 && c === '{';
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return keys;
}
