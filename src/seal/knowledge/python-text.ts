// Python's str.strip() and str.splitlines(), exactly. SEAL's text handling is written with them, and
// JavaScript's trim()/split('\n') differ at the edges (\x1c–\x1f and \x85 are whitespace to Python, \ufeff
// is not; splitlines also breaks on \r, \v, \f, \x1c–\x1e, \x85, \u2028, \u2029), so a faithful port of
// build_train_sequences needs these.

/** Characters for which Python's str.isspace() is true; also what `\s` matches in a Python str regex. */
export const PY_WHITESPACE = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const LEADING = new RegExp(`^[${PY_WHITESPACE}]+`, 'u');
const TRAILING = new RegExp(`[${PY_WHITESPACE}]+$`, 'u');
const LINE_BREAK = /\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]/u;

export function pyStrip(text: string): string {
  return pyRstrip(pyLstrip(text));
}

export function pyLstrip(text: string): string {
  return text.replace(LEADING, '');
}

export function pyRstrip(text: string): string {
  return text.replace(TRAILING, '');
}

/** str.splitlines(): no trailing empty line for a final line break, and none at all for ''. */
export function pySplitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(LINE_BREAK);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
