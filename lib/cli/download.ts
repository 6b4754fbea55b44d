/**
 * Downloads: the body saved to a file (named by Content-Disposition or
 * the URL, or given with `-o`), with a progress bar on stderr (bytes,
 * rate, ETA; cli-progress), and resumption of a partial file by a Range
 * request (RFC 9110 §14.2) with `--continue`.
 */

import { createWriteStream, existsSync, statSync, type WriteStream } from 'node:fs';
import { basename, extname, join } from 'node:path';
import cliProgress from 'cli-progress';
import type { Palette } from './palette.js';

/** The media types whose extension a name from a URL may need (httpie guesses one the same way). */
const EXTENSIONS: Record<string, string> = {
  'text/html': '.html',
  'text/plain': '.txt',
  'text/css': '.css',
  'text/csv': '.csv',
  'text/xml': '.xml',
  'text/javascript': '.js',
  'application/javascript': '.js',
  'application/json': '.json',
  'application/xml': '.xml',
  'application/pdf': '.pdf',
  'application/zip': '.zip',
  'application/gzip': '.gz',
  'application/x-tar': '.tar',
  'application/wasm': '.wasm',
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/gif': '.gif',
  'image/webp': '.webp',
  'image/svg+xml': '.svg',
  'audio/mpeg': '.mp3',
  'video/mp4': '.mp4',
};

/**
 * The filename a Content-Disposition header gives (RFC 6266 §4.3):
 * `filename*` (RFC 8187, percent-encoded, with a charset) before
 * `filename`; made safe with {@link safeFilename}. Null if it gives none.
 */
export function filenameFromDisposition(value: string | undefined): string | null {
  if (value === undefined) return null;
  const params = new Map<string, string>();
  const re = /;\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    const raw = m[2]!.trim();
    params.set(m[1]!.toLowerCase(), raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw);
  }
  const extended = params.get('filename*');
  if (extended !== undefined) {
    const m = /^([^']*)'[^']*'(.*)$/.exec(extended);
    if (m !== null) {
      try {
        const bytes = Buffer.from(decodeURIComponentBytes(m[2]!));
        const charset = m[1]!.toLowerCase() || 'utf-8';
        const name = safeFilename(new TextDecoder(charset === 'iso-8859-1' ? 'latin1' : charset).decode(bytes));
        if (name !== null) return name;
      } catch {
        // An unknown charset or a bad escape: fall back to filename.
      }
    }
  }
  const plain = params.get('filename');
  if (plain === undefined) return null;
  // Header values reach us as octets (latin1); most servers send UTF-8 in them.
  const bytes = Buffer.from(plain, 'latin1');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = plain;
  }
  return safeFilename(text);
}

/** Percent-decoding into octets (decodeURIComponent insists on UTF-8). */
function decodeURIComponentBytes(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '%' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(text.charCodeAt(i) & 0xff);
    }
  }
  return out;
}

/**
 * A name that stays in the directory it is saved to: the last path
 * component only, no control characters, no leading dots (no hidden
 * files, no `..`), at most 255 characters. Null when nothing is left.
 */
export function safeFilename(name: string): string | null {
  const last = name.split(/[/\\]/).pop() ?? '';
  const cleaned = last.replace(/[\x00-\x1f\x7f]/g, '').replace(/^[.\s]+/, '').trim().slice(0, 255);
  return cleaned === '' ? null : cleaned;
}

/**
 * A filename from the URL's last path segment (`index` for none), with an
 * extension from the Content-Type when the segment has none.
 */
export function filenameFromUrl(url: string, contentType?: string): string {
  const path = new URL(url).pathname;
  const segment = path.slice(path.lastIndexOf('/') + 1);
  let decoded = segment;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    // Not UTF-8 percent-encoding: the segment as it is.
  }
  let name = safeFilename(decoded) ?? 'index';
  if (extname(name) === '' && contentType !== undefined) {
    const ext = EXTENSIONS[contentType.split(';')[0]!.trim().toLowerCase()];
    if (ext !== undefined) name += ext;
  }
  return name;
}

/** `name` in `dir`, or `name-1`, `name-2`... (before the extension) when it is taken. */
export function uniquePath(dir: string, name: string): string {
  const first = join(dir, name);
  if (!existsSync(first)) return first;
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let i = 1; ; i++) {
    const candidate = join(dir, `${stem}-${i}${ext}`);
    if (!existsSync(candidate)) return candidate;
  }
}

/** The size of a file, or 0 if there is none. */
export function existingSize(path: string): number {
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : 0;
  } catch {
    return 0;
  }
}

/**
 * A parsed Content-Range (RFC 9110 §14.4): `bytes first-last/complete`,
 * or, for an unsatisfied range, a star and the complete length.
 */
export interface ContentRange {
  first: number | null;
  last: number | null;
  complete: number | null;
}

/** Parses a Content-Range value; null if it is absent or not one. */
export function parseContentRange(value: string | undefined): ContentRange | null {
  if (value === undefined) return null;
  const m = /^\s*bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)\s*$/i.exec(value);
  if (m === null) return null;
  return {
    first: m[1] === undefined ? null : Number(m[1]),
    last: m[2] === undefined ? null : Number(m[2]),
    complete: m[3] === '*' ? null : Number(m[3]),
  };
}

/** `1.5 MiB`: octets in binary units. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[u]}`;
}

/** `1:05`, `0:03`, `1:02:03`; `--:--` when unknown. */
function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Options of {@link saveBody}. */
export interface SaveOptions {
  /** The file to write. */
  path: string;
  /** Append (a resumed download) instead of truncating. */
  append: boolean;
  /** Octets already in the file (counted in the bar's value and total). */
  offset: number;
  /** The whole size when known (offset included). */
  total: number | null;
  /** Where the bar and the summary go. */
  stderr: NodeJS.WritableStream;
  /** Draw the bar (stderr is a terminal). */
  progress: boolean;
  palette: Palette;
}

/** What a download did. */
export interface SaveResult {
  /** Octets written now (without the offset). */
  written: number;
  ms: number;
}

/**
 * Writes the chunks to the file, honouring the file's backpressure, with
 * the progress bar when asked. The bar is stopped whatever happens.
 */
export async function saveBody(chunks: AsyncIterable<Uint8Array>, options: SaveOptions): Promise<SaveResult> {
  const started = performance.now();
  const file = createWriteStream(options.path, { flags: options.append ? 'a' : 'w' });
  const opened = new Promise<void>((resolve, reject) => {
    file.once('open', () => resolve());
    file.once('error', reject);
  });
  let written = 0;
  const bar = options.progress ? startBar(options, () => written, started) : null;
  try {
    await opened;
    for await (const chunk of chunks) {
      written += chunk.length;
      bar?.update(options.offset + written);
      if (!file.write(chunk)) await drained(file);
    }
    await new Promise<void>((resolve, reject) => {
      file.once('error', reject);
      file.end(() => resolve());
    });
    bar?.update(options.offset + written);
  } catch (err) {
    file.destroy();
    throw err;
  } finally {
    bar?.stop();
  }
  return { written, ms: performance.now() - started };
}

function drained(file: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      file.off('drain', onDrain);
      reject(err);
    };
    const onDrain = (): void => {
      file.off('error', onError);
      resolve();
    };
    file.once('drain', onDrain);
    file.once('error', onError);
  });
}

/** The bar: `[=====-----]  42% | 1.2 MiB/2.9 MiB | 3.1 MiB/s | ETA 0:01`; without a total, the octets and the rate. */
function startBar(options: SaveOptions, written: () => number, started: number): cliProgress.SingleBar {
  const p = options.palette;
  const width = 30;
  const rate = (): string => {
    const seconds = (performance.now() - started) / 1000;
    return seconds > 0 ? `${formatBytes(Math.round(written() / seconds))}/s` : '-';
  };
  const bar = new cliProgress.SingleBar({
    stream: options.stderr,
    hideCursor: true,
    clearOnComplete: false,
    // The command stops the bar itself on Ctrl-C (and exits 130).
    gracefulExit: false,
    etaBuffer: 50,
    fps: 10,
    format: (_opts, params) => {
      const value = params.value;
      if (options.total === null) return `${p.frame(formatBytes(value))} | ${rate()}`;
      const fraction = params.total > 0 ? Math.min(1, value / params.total) : 1;
      const done = Math.round(fraction * width);
      const bar = p.recv('='.repeat(done)) + p.detail('-'.repeat(width - done));
      const eta = value >= params.total ? '0:00' : formatEta(params.eta);
      return `[${bar}] ${String(Math.floor(fraction * 100)).padStart(3)}% | ${formatBytes(value)}/${formatBytes(params.total)} | ${rate()} | ETA ${eta}`;
    },
  });
  bar.start(options.total ?? 0, options.offset);
  return bar;
}

/** The file's name, for messages. */
export function displayName(path: string): string {
  return JSON.stringify(basename(path));
}
