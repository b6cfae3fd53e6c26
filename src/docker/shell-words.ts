// Splits the `executor.ShellCommand` label into the container's argv (docs/containers.md,
// **(better)**): the Go original split on single spaces, so `sh -c "echo a b"` became five words
// and no command with a quoted argument could be written. The rules are the POSIX shell's quoting
// rules and nothing else: the words go to Docker as an exec-form Cmd, with no shell in between,
// so there is no expansion, globbing, comment or operator to honour; `$`, `*`, `#`, `;` stay
// literal characters.

const BLANKS = new Set([' ', '\t', '\n', '\r']);
/** Inside double quotes a backslash escapes only these (POSIX 2.2.3); before anything else it is kept. */
const DOUBLE_QUOTE_ESCAPABLE = new Set(['"', '\\', '$', '`']);

/** Thrown for text no POSIX shell would accept; the message says what is unfinished and where. */
export class ShellWordsError extends Error {
  readonly code = 'E_SHELL_WORDS';
}

export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  // A word exists once any character or quote of it was seen, so `''` yields one empty word.
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (BLANKS.has(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i += 1;
    } else if (c === '\\') {
      const next: string | undefined = text[i + 1];
      if (next === undefined) throw new ShellWordsError(`ends with a backslash that escapes nothing (character ${i + 1})`);
      // Backslash-newline is a line continuation: both vanish (POSIX 2.2.1).
      if (next !== '\n') {
        word += next;
        inWord = true;
      }
      i += 2;
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close === -1) throw new ShellWordsError(`unterminated single quote (opened at character ${i + 1})`);
      word += text.slice(i + 1, close);
      inWord = true;
      i = close + 1;
    } else if (c === '"') {
      const opened = i;
      i += 1;
      for (;;) {
        const d: string | undefined = text[i];
        if (d === undefined) throw new ShellWordsError(`unterminated double quote (opened at character ${opened + 1})`);
        if (d === '"') break;
        const next: string | undefined = text[i + 1];
        if (d === '\\' && next !== undefined && (DOUBLE_QUOTE_ESCAPABLE.has(next) || next === '\n')) {
          if (next !== '\n') word += next;
          i += 2;
        } else {
          word += d;
          i += 1;
        }
      }
      inWord = true;
      i += 1;
    } else {
      word += c;
      inWord = true;
      i += 1;
    }
  }
  if (inWord) words.push(word);
  return words;
}
