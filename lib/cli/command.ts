/**
 * One run of `hyper`: the command line in, a request through the Client,
 * the exchange out (stdout, or a file), an exit status back. Nothing here
 * exits the process or prints a stack trace; main.ts does the exiting.
 *
 * Protocol choice, and why:
 * - https:// URLs offer h2 and http/1.1 by ALPN (the library's default).
 * - http:// URLs try `Upgrade: h2c` on the request and fall back to
 *   HTTP/1.1 quietly when the server does not switch. That is the
 *   library's default and what Python's hyper did; httpie speaks
 *   HTTP/1.1 only. `--http1` turns the probe off, `--h2c` skips it
 *   (prior knowledge), and `--upgrade` makes it mandatory.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tls from 'node:tls';
import { initContext, type TLSContextOptions } from '../tls.js';
import { Client, type ClientOptions, type ClientRequestOptions } from '../client/client.js';
import { DigestAuth } from '../client/auth.js';
import type { Response } from '../client/response.js';
import { parseArgs, USAGE, UsageError, helpText, type CliOptions } from './args.js';
import { DebugFormatter } from './debug.js';
import { displayName, existingSize, filenameFromDisposition, filenameFromUrl, formatBytes, parseContentRange, saveBody, uniquePath } from './download.js';
import { ExitStatus, errorMessage, statusForError, statusForResponse } from './exit.js';
import { encodeBody, parseItems, type EncodedBody, type RequestParts } from './items.js';
import { binaryNote, formatBuiltRequest, formatPushes, formatResponseHead, formatTextBody, formatWireRequest, isBinary, type Prettiness } from './output.js';
import { colourWanted, createPalette, type Palette } from './palette.js';
import { normaliseUrl } from './url.js';
import { Watchdog } from './watchdog.js';
import { WireTrace } from './wire.js';

/** A stream hyper writes to: stdout or stderr, or a stand-in in tests. */
export interface OutputStream {
  write(chunk: string | Uint8Array, callback?: (err?: Error | null) => void): boolean;
  once(event: 'drain', listener: () => void): unknown;
  readonly isTTY?: boolean;
}

/** What a run reads and writes. */
export interface CommandIO {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  stdout: OutputStream;
  stderr: OutputStream;
  /** Where downloads are saved. */
  cwd: string;
}

/** The version, from the package.json two levels up (lib/cli/ in a checkout, dist/cli/ when built). */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** An error that is the user's to fix, reported as it is. */
class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    message: string,
    readonly status: number = ExitStatus.ERROR,
  ) {
    super(message);
  }
}

/**
 * A piece of output: text, or octets written as they are (a body piped
 * on is never re-encoded).
 */
type Section = string | Uint8Array;

/** Sections one after another, a newline between each two (so a head's own final newline makes the blank line after it). */
function joinSections(sections: readonly Section[]): Buffer {
  const parts: Buffer[] = [];
  sections.forEach((s, i) => {
    if (i > 0) parts.push(NEWLINE);
    parts.push(typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s.buffer, s.byteOffset, s.byteLength));
  });
  return Buffer.concat(parts);
}

const NEWLINE = Buffer.from('\n');

/** Writes, waiting for the stream to drain when it asks to. */
async function write(out: OutputStream, chunk: string | Uint8Array): Promise<void> {
  if (chunk.length === 0) return;
  if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
}

/** Runs the command; resolves to the exit status. */
export async function runCommand(io: CommandIO): Promise<number> {
  const origin = performance.now();
  let options: CliOptions;
  try {
    options = parseArgs(io.argv);
  } catch (err) {
    if (err instanceof UsageError) return usageError(io, err.message);
    throw err;
  }
  if (options.help) {
    await write(io.stdout, helpText());
    return ExitStatus.SUCCESS;
  }
  if (options.version) {
    await write(io.stdout, `${version()}\n`);
    return ExitStatus.SUCCESS;
  }
  let plan: Plan;
  try {
    plan = makePlan(options, io);
  } catch (err) {
    if (err instanceof UsageError) return usageError(io, err.message);
    return report(io, err);
  }
  const stderrColours = options.pretty !== 'none' && colourWanted(io.stderr.isTTY === true, io.env);
  const stderrPalette = createPalette(stderrColours);
  const debug = options.debug ? new DebugFormatter(stderrPalette) : null;
  // The trace runs whatever the options: -v shows the request head from
  // it, and the push promises are listed from it.
  const trace = new WireTrace(origin, debug === null ? null : (event) => void io.stderr.write(debug.format(event)));
  trace.start();
  let client: Client | null = null;
  let failed = false;
  try {
    // Made here: a bad --proxy is reported like any other error.
    client = new Client(plan.clientOptions);
    return await exchange(io, options, plan, client, trace, stderrPalette);
  } catch (err) {
    failed = true;
    return report(io, err, stderrPalette);
  } finally {
    // A server that holds the connection open must not hold the command:
    // a second to close politely, less after a failure (a request may
    // still hang there). The trace stays on meanwhile, so --debug shows
    // the closing frames too.
    if (client !== null) await Promise.race([client.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, failed ? 100 : 1_000).unref())]);
    trace.stop();
  }
}

function usageError(io: CommandIO, message: string): number {
  io.stderr.write(`${USAGE}\nhyper: error: ${message}\n`);
  return ExitStatus.ERROR;
}

function report(io: CommandIO, err: unknown, palette: Palette = createPalette(false)): number {
  const status = err instanceof CommandError ? err.status : statusForError(err);
  io.stderr.write(`${palette.error('hyper: error:')} ${errorMessage(err)}\n`);
  return status;
}

/** Everything decided before the request: its parts, the Client's options, where a download goes. */
interface Plan {
  url: string;
  method: string;
  parts: RequestParts;
  body: EncodedBody;
  clientOptions: ClientOptions;
  /** A download: the file given or derived now (with --continue), and the octets already there. */
  download: { path: string | null; offset: number } | null;
}

function makePlan(options: CliOptions, io: CommandIO): Plan {
  const url = normaliseUrl(options.url);
  const secure = url.startsWith('https:');
  if (secure && options.h2c) throw new UsageError('--h2c is cleartext HTTP/2: use an http:// URL (over TLS, h2 is chosen by ALPN)');
  if (secure && options.upgrade) throw new UsageError('--upgrade is for http:// URLs (over TLS, h2 is chosen by ALPN)');
  const parts = parseItems(options.items);
  const body = encodeBody(parts, options.bodyKind);
  const method = options.method ?? (parts.hasBody ? 'POST' : 'GET');
  const clientOptions: ClientOptions = {
    http2: !options.http1,
    followRedirects: options.follow,
    maxRedirects: options.maxRedirects,
    // No --timeout: the pool's defaults (connect 10 s, read 300 s), not the Client's 5 s.
    timeout: options.timeout === null ? null : Math.round(options.timeout * 1000),
    enablePush: options.push && !options.http1,
    trustEnv: true,
  };
  if (options.h2c) clientOptions.pool = { priorKnowledge: true };
  if (options.proxy !== null) clientOptions.proxy = options.proxy;
  const tlsOptions = tlsOf(options);
  if (tlsOptions !== undefined) clientOptions.tls = tlsOptions;
  if (options.auth !== null) {
    const colon = options.auth.indexOf(':');
    const user = options.auth.slice(0, colon);
    const password = options.auth.slice(colon + 1);
    clientOptions.auth = options.authType === 'digest' ? new DigestAuth(user, password) : [user, password];
  }
  let download: Plan['download'] = null;
  if (options.download || options.output !== null) {
    // Resuming needs the file before the request, to ask for what it lacks:
    // -o's, or else the name the URL gives (Content-Disposition comes too late).
    const path = options.output ?? (options.continue ? join(io.cwd, filenameFromUrl(url)) : null);
    download = { path, offset: options.continue && path !== null ? existingSize(path) : 0 };
  }
  return { url, method, parts, body, clientOptions, download };
}

/** The TLS options of --insecure, --cacert, --cert, --key and --pass; undefined when none is given. */
function tlsOf(options: CliOptions): tls.ConnectionOptions | undefined {
  if (!options.insecure && options.cacert === null && options.cert === null) return undefined;
  const context: TLSContextOptions = { verify: !options.insecure };
  if (options.cacert !== null) context.caFile = options.cacert;
  if (options.cert !== null) {
    context.certFile = options.cert;
    // Without --key the key is in the certificate's file, as curl allows.
    context.keyFile = options.key ?? options.cert;
  }
  if (options.pass !== null) context.passphrase = options.pass;
  // initContext reads the files and opens the key now: a missing file or a
  // wrong passphrase is reported before any connection.
  return initContext(context);
}

/** The request options the items make, and the headers they remove. */
function requestOptions(plan: Plan): { request: ClientRequestOptions; removed: string[] } {
  const given = plan.parts.headers.filter((h): h is [string, string] => h[1] !== null);
  const has = (name: string): boolean => plan.parts.headers.some(([n]) => n.toLowerCase() === name);
  const headers: Array<[string, string]> = [...given];
  const body = plan.body;
  // httpie's Accept for JSON requests: JSON first, anything else too.
  if (body.kind === 'json' && !has('accept')) headers.push(['accept', 'application/json, */*;q=0.5']);
  if (plan.download !== null) {
    // Octets on disk must be the octets on the wire for a Range to resume them (RFC 9110 §14.2).
    if (!has('accept-encoding')) headers.push(['accept-encoding', 'identity']);
    if (plan.download.offset > 0 && !has('range')) headers.push(['range', `bytes=${plan.download.offset}-`]);
  }
  const request: ClientRequestOptions = { headers };
  if (plan.parts.query.length > 0) request.params = plan.parts.query;
  if (body.kind === 'json') request.json = body.json;
  else if (body.kind === 'form') request.data = body.data;
  else if (body.kind === 'multipart') {
    request.data = body.data;
    request.files = body.files;
  }
  const removed = plan.parts.headers.filter(([name, value]) => value === null && !given.some(([n]) => n.toLowerCase() === name.toLowerCase())).map(([name]) => name);
  return { request, removed };
}

/** Sends the request and shows (or saves) the exchange. */
async function exchange(io: CommandIO, options: CliOptions, plan: Plan, client: Client, trace: WireTrace, stderrPalette: Palette): Promise<number> {
  const { request: requestOpts, removed } = requestOptions(plan);
  const request = client.build(plan.method, plan.url, requestOpts);
  // `Header:` removes a header, the Client's defaults included.
  for (const name of removed) request.headers.delete(name);
  const watchdog = options.timeout === null ? null : new Watchdog(Math.round(options.timeout * 1000));
  try {
    const sending = client.send(request, watchdog === null ? { stream: true } : { stream: true, signal: watchdog.signal });
    const response = watchdog === null ? await sending : await watchdog.race(sending);
    watchdog?.kick('the response body');
    const body = (): AsyncIterable<Buffer> => (watchdog === null ? response.iterBytes() : watchdog.guard(response.iterBytes()));
    return await show(io, options, plan, response, body, trace, stderrPalette);
  } finally {
    watchdog?.stop();
  }
}

/** Shows (or saves) the response; `body()` gives its chunks, once. */
async function show(io: CommandIO, options: CliOptions, plan: Plan, response: Response, body: () => AsyncIterable<Buffer>, trace: WireTrace, stderrPalette: Palette): Promise<number> {
  if ((options.http2 || options.upgrade) && response.protocol !== 'HTTP/2') {
    response.close();
    const how = options.upgrade ? 'did not switch to h2c on "Upgrade: h2c"' : plan.url.startsWith('https:') ? 'did not select h2 by ALPN' : 'did not switch to h2c';
    throw new CommandError(`HTTP/2 was required, but the server ${how}: it answered over ${response.protocol}`);
  }

  const saving = plan.download !== null;
  if (saving && response.isSuccess) return download(io, options, plan, response, body, trace, stderrPalette);
  if (saving && response.status === 416 && plan.download!.offset > 0) {
    // Asked for octets past the end: the file is complete if the server says the whole is what we have.
    const range = parseContentRange(response.headers.first('content-range'));
    response.close();
    if (range?.complete === plan.download!.offset) {
      io.stderr.write(`The file ${displayName(plan.download!.path!)} is already complete (${formatBytes(range.complete)}).\n`);
      return ExitStatus.SUCCESS;
    }
    throw new CommandError(`cannot resume ${displayName(plan.download!.path!)}: the server refused the range (416)`);
  }

  const stdoutTTY = io.stdout.isTTY === true;
  const pretty = options.pretty ?? (stdoutTTY ? 'all' : 'none');
  const colours = (pretty === 'all' || pretty === 'colors') && (options.pretty !== null || colourWanted(stdoutTTY, io.env));
  const palette = createPalette(colours);
  const prettiness: Prettiness = { colors: colours, format: pretty === 'all' || pretty === 'format' };
  const print = options.print ?? (options.verbose ? 'HBhb' : stdoutTTY ? 'hb' : 'b');

  const sections: Section[] = requestSections(print, response, trace, palette, prettiness, stdoutTTY);
  const head = print.includes('h') ? formatResponseHead(response.protocol, response.status, response.reasonPhrase, response.headers.raw(), palette) : null;

  if (!print.includes('b')) {
    response.close();
    if (head !== null) sections.push(head, ...pushSection(trace, palette));
    await write(io.stdout, joinSections(sections));
  } else if (stdoutTTY || prettiness.format) {
    // On a terminal, and to format, the whole body is needed first; the
    // head waits for it, so that every push promise is known when it is shown.
    const content = await readForDisplay(body(), stdoutTTY);
    if (head !== null) sections.push(head, ...pushSection(trace, palette));
    if (content.binary) sections.push(binaryNote(content.octets, palette));
    else if (content.bytes.length > 0) sections.push(stdoutTTY ? formatTextBody(content.bytes, response.headers.first('content-type'), prettiness, palette) : formatPiped(content.bytes, response.headers.first('content-type'), prettiness, palette));
    await write(io.stdout, joinSections(sections));
  } else {
    // Piped: the body as it comes, byte for byte.
    if (head !== null) sections.push(head, ...pushSection(trace, palette));
    if (sections.length > 0) await write(io.stdout, joinSections([...sections, '']));
    for await (const chunk of body()) await write(io.stdout, chunk);
  }

  if (saving) {
    io.stderr.write(`${stderrPalette.warning('hyper: warning:')} nothing saved: the response was ${response.status}${response.reasonPhrase !== '' ? ` ${response.reasonPhrase}` : ''}\n`);
    return options.checkStatus ? statusForResponse(response.status) : ExitStatus.ERROR;
  }
  return checkStatus(io, options, response, stderrPalette);
}

/** --check-status: the exit status for the response, with a warning when stdout is not a terminal (httpie's rule). */
function checkStatus(io: CommandIO, options: CliOptions, response: Response, palette: Palette): number {
  if (!options.checkStatus) return ExitStatus.SUCCESS;
  const status = statusForResponse(response.status);
  if (status !== ExitStatus.SUCCESS && io.stdout.isTTY !== true) {
    io.stderr.write(`${palette.warning('hyper: warning:')} HTTP ${response.status}${response.reasonPhrase !== '' ? ` ${response.reasonPhrase}` : ''}\n`);
  }
  return status;
}

/** The request head (H) and body (B), as sections. */
function requestSections(print: string, response: Response, trace: WireTrace, palette: Palette, prettiness: Prettiness, terminal: boolean): Section[] {
  const sections: Section[] = [];
  const request = response.request;
  if (print.includes('H')) {
    const wire = trace.lastRequest;
    sections.push(wire !== null ? formatWireRequest(wire, palette) : formatBuiltRequest({ method: request.method, url: request.url, headers: request.headers.raw() }, response.protocol, palette));
  }
  if (print.includes('B')) {
    const content = request.content;
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content instanceof Uint8Array ? content : null;
    if (bytes !== null && bytes.length > 0) {
      const type = request.headers.first('content-type');
      if (terminal && isBinary(bytes)) sections.push(binaryNote(bytes.length, palette));
      else sections.push(terminal ? formatTextBody(bytes, type, prettiness, palette) : formatPiped(bytes, type, prettiness, palette));
    }
  }
  return sections;
}

/** A body in piped output: formatted if asked and it is text, else its octets as they are. */
function formatPiped(bytes: Uint8Array, contentType: string | undefined, prettiness: Prettiness, palette: Palette): Section {
  if (prettiness.format && !isBinary(bytes)) return formatTextBody(bytes, contentType, prettiness, palette);
  return bytes;
}

/** The push promises as a section (none when there were none). */
function pushSection(trace: WireTrace, palette: Palette): string[] {
  return trace.pushes.length === 0 ? [] : [formatPushes(trace.pushes, palette)];
}

/**
 * The body for display. On a terminal a binary body is not kept: from its
 * first NUL on it is only counted, so the note can say how much was
 * skipped.
 */
async function readForDisplay(body: AsyncIterable<Buffer>, terminal: boolean): Promise<{ binary: boolean; octets: number; bytes: Buffer }> {
  const chunks: Buffer[] = [];
  let octets = 0;
  let binary = false;
  for await (const chunk of body) {
    octets += chunk.length;
    if (binary) continue;
    if (terminal && chunk.includes(0)) {
      binary = true;
      chunks.length = 0;
      continue;
    }
    chunks.push(chunk);
  }
  return { binary, octets, bytes: binary ? Buffer.alloc(0) : Buffer.concat(chunks) };
}

/** --download / --output: the body to a file, the head and the bar on stderr. */
async function download(io: CommandIO, options: CliOptions, plan: Plan, response: Response, body: () => AsyncIterable<Buffer>, trace: WireTrace, palette: Palette): Promise<number> {
  const stderrTTY = io.stderr.isTTY === true;
  const prettiness: Prettiness = { colors: palette.enabled, format: true };
  const print = options.print ?? (options.verbose ? 'HBh' : stderrTTY ? 'h' : '');
  const sections = requestSections(print, response, trace, palette, prettiness, stderrTTY);
  if (print.includes('h')) sections.push(formatResponseHead(response.protocol, response.status, response.reasonPhrase, response.headers.raw(), palette), ...pushSection(trace, palette));
  if (sections.length > 0) io.stderr.write(joinSections([...sections, '']));

  const planned = plan.download!;
  const contentType = response.headers.first('content-type');
  const path = planned.path ?? uniquePath(io.cwd, filenameFromDisposition(response.headers.first('content-disposition')) ?? filenameFromUrl(response.url, contentType));
  let offset = 0;
  let append = false;
  if (planned.offset > 0) {
    if (response.status === 206) {
      const range = parseContentRange(response.headers.first('content-range'));
      if (range === null || range.first !== planned.offset) {
        response.close();
        throw new CommandError(`cannot resume ${displayName(path)}: the server sent ${response.headers.first('content-range') ?? 'no Content-Range'} for bytes=${planned.offset}-`);
      }
      offset = planned.offset;
      append = true;
    } else {
      io.stderr.write(`${palette.warning('hyper: warning:')} the server ignored the range; downloading ${displayName(path)} from the start\n`);
    }
  }
  const length = Number(response.headers.first('content-length'));
  const range = parseContentRange(response.headers.first('content-range'));
  const total = range?.complete ?? (Number.isFinite(length) && response.headers.has('content-length') ? offset + length : null);
  io.stderr.write(`${append ? 'Resuming' : 'Downloading'} ${total !== null ? `${formatBytes(total)} ` : ''}to ${displayName(path)}${append ? ` from ${formatBytes(offset)}` : ''}\n`);
  const result = await saveBody(body(), { path, append, offset, total, stderr: io.stderr as NodeJS.WritableStream, progress: stderrTTY, palette });
  const seconds = result.ms / 1000;
  const rate = seconds > 0 ? `${formatBytes(Math.round(result.written / seconds))}/s` : '-';
  io.stderr.write(`Done. ${formatBytes(result.written)} in ${seconds.toFixed(2)}s (${rate}) to ${displayName(path)}\n`);
  if (total !== null && offset + result.written !== total) {
    throw new CommandError(`incomplete download: ${formatBytes(offset + result.written)} of ${formatBytes(total)} in ${displayName(path)}; resume it with --continue`);
  }
  return checkStatus(io, options, response, palette);
}
