// The SEAL prompt formats, cut down to the tiny world's vocabulary. SEAL's knowledge-incorporation prompt is
// "…Passage:\n{title}\n{context}\n\nImplications:\n" and its answer prompt "…Question: {q}\nAnswer:"; the tiny
// model knows none of the English around them, so only the two cue words survive, as separate tokens.
// Texts are words separated by single spaces; "\n" is a token of its own and separates implication lines.

export const NEWLINE = '\n';

/** What the model continues with its implications (self-edit), one per line, ended by EOS. */
export function implicationsPrompt(passage: string): string {
  return `Passage : ${passage}${NEWLINE}Implications :${NEWLINE}`;
}

/** The completion a self-edit is trained on / compared with: lines joined by newlines (EOS is the tokenizer's). */
export function implicationsCompletion(lines: readonly string[]): string {
  return lines.join(NEWLINE);
}

/** The lines of a self-edit as the model wrote it: split on newlines, trimmed, empty lines dropped. */
export function parseImplications(completion: string): string[] {
  return completion
    .split(NEWLINE)
    .map((line) => line.trim().replace(/\s+/g, ' '))
    .filter((line) => line.length > 0);
}

/** The closed-book question prompt (no passage in context); the model's next token is its answer. */
export function questionPrompt(question: string): string {
  return question;
}

/** A QA document as pretraining shows it: the question prompt followed by the value. */
export function questionAnswerText(question: string, answer: string): string {
  return `${questionPrompt(question)} ${answer}`;
}
