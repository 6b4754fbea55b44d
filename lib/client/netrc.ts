/**
 * .netrc files: the ftp(1) format that curl and Python's `netrc` module read,
 * used by the Client for credentials when none are given and `trustEnv` is on.
 *
 * The format, as accepted here:
 * - Tokens are separated by spaces, tabs and line breaks; which line a token
 *   is on does not matter (`machine h login u password p` may be one line or
 *   several).
 * - `machine NAME` starts an entry, `default` starts the entry for any other
 *   host; inside an entry, `login NAME` (or `user NAME`, as Python accepts),
 *   `password SECRET` and `account VALUE` (read, not used). Keywords are
 *   matched case-insensitively, as curl does; a repeated keyword in one entry
 *   replaces the earlier value, as in both.
 * - `macdef NAME` defines an ftp macro: the rest of that line and every line
 *   after it up to the first blank line (or the end of the file) is skipped.
 * - A line whose first non-blank character is `#` is a comment (curl); a
 *   token starting with `#` where a keyword is expected starts a comment to
 *   the end of its line (Python). A `#` inside a value is part of the value.
 * - A token starting with `"` is quoted: it ends at the next unescaped `"`,
 *   may hold spaces, and `\"`, `\\` stand for `"` and `\`. `\n`, `\r`, `\t`
 *   stand for a line feed, carriage return and tab as curl reads them
 *   (Python keeps the letter; curl's reading is the one that can express
 *   those characters at all). Outside quotes a backslash is an ordinary
 *   character, as in curl (Python drops it).
 *
 * Which entry applies to a host: the first `machine` whose name equals the
 * host case-insensitively (curl stops at the first match; Python keeps the
 * last duplicate); failing that, the first `default` entry wherever it
 * stands (Python's rule; curl takes `default` only if no machine before it
 * matched, and ftp(1) requires it to be last anyway).
 */

import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HyperwireError } from '../common/errors.js';

/** One `machine` or `default` entry of a .netrc file. */
export interface NetrcEntry {
  /** The machine name as written, or `undefined` for the `default` entry. */
  readonly machine: string | undefined;
  /** The `login` (or `user`) value, if the entry has one. */
  readonly login: string | undefined;
  /** The `password` value, if the entry has one. */
  readonly password: string | undefined;
  /** The `account` value, if the entry has one (an ftp notion; not used for HTTP). */
  readonly account: string | undefined;
}

/**
 * The largest .netrc file read, in bytes: a larger one is ignored as if
 * missing. curl's limit (lib/netrc.c, MAX_NETRC_FILE); a real file holds a
 * few entries, and the Client may read it for every request.
 */
export const MAX_NETRC_BYTES = 128 * 1024;

/** A .netrc file that does not follow the format; `line` is 1-based. */
export class NetrcParseError extends HyperwireError {
  /** The line the problem was found on (1-based). */
  readonly line: number;

  constructor(message: string, line: number) {
    super('HW_ERR_NETRC_PARSE', `${message} (.netrc line ${line})`);
    this.line = line;
  }
}

interface Token {
  readonly text: string;
  readonly quoted: boolean;
  /** Whether only blanks precede the token on its line. */
  readonly firstOnLine: boolean;
  readonly line: number;
}

/** Splits .netrc text into tokens; see the module comment for the rules. */
class NetrcLexer {
  private pos = 0;
  private line = 1;

  constructor(private readonly text: string) {}

  /** The next token, or undefined at the end. Comment lines are skipped here. */
  next(): Token | undefined {
    const s = this.text;
    for (;;) {
      let firstOnLine = this.pos === 0 || s[this.pos - 1] === '\n';
      while (this.pos < s.length) {
        const c = s[this.pos];
        if (c === '\n') {
          this.line++;
          firstOnLine = true;
        } else if (c !== ' ' && c !== '\t' && c !== '\r') {
          break;
        }
        this.pos++;
      }
      if (this.pos >= s.length) return undefined;
      if (firstOnLine && s[this.pos] === '#') {
        // curl drops comment lines as it loads the file (lib/netrc.c, file2memory).
        this.skipLine();
        continue;
      }
      const line = this.line;
      if (s[this.pos] === '"') return { text: this.quoted(), quoted: true, firstOnLine, line };
      const start = this.pos;
      while (this.pos < s.length && !isSpace(s[this.pos]!)) this.pos++;
      return { text: s.slice(start, this.pos), quoted: false, firstOnLine, line };
    }
  }

  /** Skips to the start of the next line. */
  skipLine(): void {
    const nl = this.text.indexOf('\n', this.pos);
    if (nl === -1) {
      this.pos = this.text.length;
    } else {
      this.pos = nl + 1;
      this.line++;
    }
  }

  /**
   * Skips a macdef body: what is left of the current line, then every line
   * up to and including the first blank one (ftp(1): "a null line
   * (consecutive new-line characters)"; a line of blanks counts too, as in
   * curl), or to the end of the file.
   */
  skipMacro(): void {
    this.skipLine();
    while (this.pos < this.text.length) {
      const nl = this.text.indexOf('\n', this.pos);
      const end = nl === -1 ? this.text.length : nl;
      const blank = this.text.slice(this.pos, end).trim() === '';
      this.skipLine();
      if (blank) return;
    }
  }

  private quoted(): string {
    const s = this.text;
    const line = this.line;
    let out = '';
    this.pos++; // the opening quote
    while (this.pos < s.length) {
      let c = s[this.pos++]!;
      if (c === '"') return out;
      if (c === '\\') {
        if (this.pos >= s.length) break;
        c = s[this.pos++]!;
        if (c === 'n') c = '\n';
        else if (c === 'r') c = '\r';
        else if (c === 't') c = '\t';
      }
      if (c === '\n') this.line++;
      out += c;
    }
    throw new NetrcParseError('Unterminated quoted token', line);
  }
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/**
 * Parses the text of a .netrc file into its entries, in file order.
 *
 * @throws NetrcParseError on a token where a keyword is expected that is not
 * one (Python's "bad toplevel token" / "bad follower token"), a keyword with
 * no value at the end of the file, or an unterminated quoted token.
 */
export function parseNetrc(text: string): NetrcEntry[] {
  const lexer = new NetrcLexer(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const entries: NetrcEntry[] = [];
  let current: { machine: string | undefined; login?: string; password?: string; account?: string } | undefined;
  const finish = (): void => {
    if (current !== undefined) {
      entries.push({ machine: current.machine, login: current.login, password: current.password, account: current.account });
      current = undefined;
    }
  };
  const value = (keyword: Token): string => {
    const token = lexer.next();
    if (token === undefined) throw new NetrcParseError(`"${keyword.text}" has no value`, keyword.line);
    return token.text;
  };

  for (let token = lexer.next(); token !== undefined; token = lexer.next()) {
    if (!token.quoted && token.text.startsWith('#')) {
      // Python's netrc: a '#' token where a keyword belongs comments out the rest of the line.
      lexer.skipLine();
      continue;
    }
    const keyword = token.text.toLowerCase();
    if (keyword === 'machine') {
      finish();
      current = { machine: value(token) };
    } else if (keyword === 'default') {
      finish();
      current = { machine: undefined };
    } else if (keyword === 'macdef') {
      finish();
      value(token); // the macro's name
      lexer.skipMacro();
    } else if (current !== undefined && (keyword === 'login' || keyword === 'user')) {
      current.login = value(token);
    } else if (current !== undefined && keyword === 'password') {
      current.password = value(token);
    } else if (current !== undefined && keyword === 'account') {
      current.account = value(token);
    } else {
      throw new NetrcParseError(`Unexpected token ${JSON.stringify(token.text)}`, token.line);
    }
  }
  finish();
  return entries;
}

/**
 * The entry for `host`: the first `machine` whose name equals it
 * case-insensitively, else the first `default` entry, else undefined.
 */
export function findNetrcEntry(entries: readonly NetrcEntry[], host: string): NetrcEntry | undefined {
  const wanted = host.toLowerCase();
  let fallback: NetrcEntry | undefined;
  for (const entry of entries) {
    if (entry.machine === undefined) fallback ??= entry;
    else if (entry.machine.toLowerCase() === wanted) return entry;
  }
  return fallback;
}

/**
 * The files to look in, in order: `NETRC` alone when it is set and not
 * empty (as requests reads it; a leading `~/` is the home directory), else
 * `~/.netrc`, and on Windows `~/_netrc` after it (curl's fallback there).
 * Empty when no home directory can be found.
 */
export function netrcFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const configured = env['NETRC'];
  let home: string;
  try {
    home = homedir();
  } catch {
    home = '';
  }
  if (configured !== undefined && configured !== '') {
    if (home !== '' && (configured === '~' || configured.startsWith('~/'))) return [join(home, configured.slice(1))];
    return [configured];
  }
  if (home === '') return [];
  const files = [join(home, '.netrc')];
  if (process.platform === 'win32') files.push(join(home, '_netrc'));
  return files;
}

/**
 * The entries of the first .netrc file of {@link netrcFiles} that exists.
 *
 * Never throws: a file that cannot be opened or read, is not a regular
 * file, is larger than {@link MAX_NETRC_BYTES}, or does not parse (see
 * {@link parseNetrc}) gives `undefined`, and so does no file at all. A
 * malformed file is ignored as a whole rather than half-read, since what
 * follows an error cannot be trusted to belong to the entry it seems to
 * (requests ignores such a file the same way).
 */
export function readNetrc(env: NodeJS.ProcessEnv = process.env): NetrcEntry[] | undefined {
  for (const file of netrcFiles(env)) {
    let text: string | undefined;
    let missing = false;
    let fd: number | undefined;
    try {
      // Non-blocking, so a FIFO named by NETRC cannot stall the open; fstat then refuses it.
      fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
      const stat = fstatSync(fd);
      if (stat.isFile() && stat.size <= MAX_NETRC_BYTES) {
        const bytes = readFileSync(fd);
        if (bytes.length <= MAX_NETRC_BYTES) text = bytes.toString('utf8');
      }
    } catch (err) {
      missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    } finally {
      if (fd !== undefined) {
        try {
          closeSync(fd);
        } catch {
          // Nothing useful to do: the file was read or not already.
        }
      }
    }
    if (missing) continue;
    if (text === undefined) return undefined;
    try {
      return parseNetrc(text);
    } catch {
      return undefined;
    }
  }
  return undefined;
}
