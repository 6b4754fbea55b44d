/**
 * Real HTTP/2 servers for the interop tests: nghttpd (nghttp2-server),
 * nginx and h2o, each started on 127.0.0.1 on a free port with its own
 * temporary directory and in its own process group, and stopped (whatever
 * is left of the group is killed) afterwards; and node:http2's server.
 *
 * Every wait here is bounded: a server that does not come up, or does not
 * go away, fails the test with what it printed rather than hanging it.
 */

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { accessSync, constants as fsConstants } from 'node:fs';
import { chmod, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The self-signed certificate (CN localhost, SAN localhost and 127.0.0.1) and its key. */
export const CERT_FILE = path.join(here, 'certs', 'cert.pem');
export const KEY_FILE = path.join(here, 'certs', 'key.pem');

/** The Debian/Ubuntu package that provides each binary, for skip messages. */
const PACKAGES: Record<string, string> = {
  nghttpd: 'nghttp2-server',
  nginx: 'nginx-light (or nginx)',
  h2o: 'h2o',
  apache2: 'apache2',
  squid: 'squid',
  danted: 'dante-server',
};

// sbin directories are often missing from a non-root PATH.
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The absolute path of an executable, searching PATH and the usual (s)bin directories; null if absent. */
export function which(binary: string): string | null {
  const dirs = [...(process.env['PATH'] ?? '').split(path.delimiter).filter((d) => d !== ''), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, binary);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

const reportedMissing = new Set<string>();

/**
 * Whether a server binary is installed. When it is not, says so on the
 * console (once per binary), naming the binary and its package, so that a
 * skipped interop file is never silent.
 */
export function have(binary: string): boolean {
  if (which(binary) !== null) return true;
  if (!reportedMissing.has(binary)) {
    reportedMissing.add(binary);
    const pkg = PACKAGES[binary];
    console.warn(`[interop] ${binary} not found on PATH or in ${EXTRA_DIRS.join(', ')}: skipping the ${binary} interop tests${pkg !== undefined ? ` (install the ${pkg} package)` : ''}`);
  }
  return false;
}

/** Whether the tests run as root (servers must then be told to stay root to read the 0700 temp directories). */
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

// --- ports -------------------------------------------------------------------

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('Could not read the address of a listening socket'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** Options of {@link waitForPort}. */
export interface WaitForPortOptions {
  host?: string;
  /** Give up after this many ms. Default 10 000. */
  timeoutMs?: number;
  /** Stop waiting early if this process exits. */
  process?: ChildProcess;
}

/** Resolves once something accepts TCP connections on the port; rejects after `timeoutMs`. */
export async function waitForPort(port: number, options: WaitForPortOptions = {}): Promise<void> {
  const host = options.host ?? '127.0.0.1';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const child = options.process;
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no attempt made';
  while (Date.now() < deadline) {
    if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`The process exited (${child.exitCode ?? child.signalCode}) before port ${port} accepted connections`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        lastError = 'connect attempt timed out';
        socket.destroy();
        resolve(false);
      }, 1_000);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.destroy();
        resolve(true);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        lastError = err.message;
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`Nothing accepted connections on ${host}:${port} within ${timeoutMs} ms (last error: ${lastError})`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// --- content -----------------------------------------------------------------

/**
 * A deterministic, incompressible byte pattern: AES-128-CTR keystream under a
 * key derived from `seed`. Every 16-octet block differs, so a body with any
 * chunk lost, repeated or out of order has a different SHA-256.
 */
export async function* pattern(size: number, seed: string, chunkSize = 1 << 20): AsyncGenerator<Buffer> {
  const cipher = patternCipher(seed);
  const zeros = Buffer.alloc(Math.min(chunkSize, size));
  let left = size;
  while (left > 0) {
    const n = Math.min(chunkSize, left);
    left -= n;
    yield cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n));
  }
}

/** `pattern(size, seed)` in one Buffer, synchronously (for small bodies). */
export function patternBytes(size: number, seed: string): Buffer {
  return patternCipher(seed).update(Buffer.alloc(size));
}

function patternCipher(seed: string): ReturnType<typeof createCipheriv> {
  const key = createHash('sha256').update(`key:${seed}`).digest().subarray(0, 16);
  const iv = createHash('sha256').update(`iv:${seed}`).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, iv);
}

/** The SHA-256 (hex) of `pattern(size, seed)`. */
export async function patternSha256(size: number, seed: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of pattern(size, seed)) hash.update(chunk);
  return hash.digest('hex');
}

/** Writes `pattern(size, seed)` to a file; returns its SHA-256 (hex). */
export async function writePatternFile(file: string, size: number, seed: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(file, 'w');
  try {
    for await (const chunk of pattern(size, seed)) {
      hash.update(chunk);
      await handle.write(chunk);
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** A file in a document root. */
export interface ServedFile {
  /** The URL path, e.g. `/small.txt`. */
  path: string;
  size: number;
  sha256: string;
}

/** A small text file with known content. */
export interface SmallFile extends ServedFile {
  body: string;
}

/** The files every document root holds. */
export interface DocRoot {
  /** The directory. */
  dir: string;
  /** `/small.txt`: a short text file. */
  small: SmallFile;
  /** `/style.css`: a pushed resource. */
  style: SmallFile;
  /** `/script.js`: another pushed resource. */
  script: SmallFile;
  /** `/index.html`: a page whose requests the servers are told to answer with pushes. */
  index: SmallFile;
  /** `/large.bin`: 64 MiB of {@link pattern}. */
  large: ServedFile;
}

/** The size of the large file. */
export const LARGE_SIZE = 64 * 1024 * 1024;

function textFile(urlPath: string, body: string): SmallFile {
  return { path: urlPath, body, size: Buffer.byteLength(body), sha256: createHash('sha256').update(body).digest('hex') };
}

/** Fills `dir` with the standard files (the 64 MiB one takes a fraction of a second). */
export async function makeDocRoot(dir: string): Promise<DocRoot> {
  await mkdir(dir, { recursive: true });
  const small = textFile('/small.txt', 'Hello from the interop document root.\nSecond line, with UTF-8: \u00e9\u00e8\u00ea \u2713\n');
  const style = textFile('/style.css', 'body { color: #123456; background: #fedcba; }\n');
  const script = textFile('/script.js', 'console.log("pushed script");\n');
  const index = textFile('/index.html', '<!doctype html>\n<link rel="stylesheet" href="/style.css">\n<script src="/script.js"></script>\n<p>index</p>\n');
  for (const f of [small, style, script, index]) await writeFile(path.join(dir, f.path), f.body);
  const largeSha = await writePatternFile(path.join(dir, 'large.bin'), LARGE_SIZE, 'large.bin');
  return { dir, small, style, script, index, large: { path: '/large.bin', size: LARGE_SIZE, sha256: largeSha } };
}

/** A fresh temporary directory (the caller removes it). */
export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `hyperwire-${prefix}-`));
}

// --- processes ---------------------------------------------------------------

/** Every server process still running, killed on exit should a test file not stop its servers. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
}

/** A running server. */
export interface ServerHandle {
  /** The binary's name (nghttpd, nginx, h2o). */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** `host:port`, for HTTP20Connection. */
  readonly authority: string;
  /** The server's temporary directory (config, logs; removed by stop()). */
  readonly dir: string;
  readonly pid: number;
  /** What the server printed so far (bounded), for diagnostics. */
  output(): string;
  /** Stops the server (SIGTERM, then SIGKILL to its process group) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

const OUTPUT_LIMIT = 64 * 1024;

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** Waits (bounded) until no process of the child's group is left running. */
async function waitGroupGone(child: ChildProcess, ms: number): Promise<void> {
  if (child.pid === undefined) return;
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && groupAlive(child.pid)) await sleep(20);
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

interface LaunchSpec {
  name: string;
  /** Builds the arguments for a port (called again with a new port if the first was taken meanwhile). */
  args: (port: number) => string[] | Promise<string[]>;
  dir: string;
  /** Files (besides the output) worth showing when start-up fails. */
  logFiles?: string[];
  /** Ms to wait for the port. Default 15 000. */
  startTimeoutMs?: number;
}

/**
 * Spawns a server in its own process group (so that workers die with it)
 * and waits until its port accepts connections. A port taken between
 * {@link freePort} and the bind is retried with another port.
 */
async function launch(spec: LaunchSpec): Promise<ServerHandle> {
  const binary = which(spec.name);
  if (binary === null) throw new Error(`${spec.name} is not installed (package ${PACKAGES[spec.name] ?? spec.name})`);
  installExitHook();
  let lastFailure: Error | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const args = await spec.args(port);
    const child = spawn(binary, args, { cwd: spec.dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let output = '';
    const collect = (chunk: Buffer): void => {
      if (output.length < OUTPUT_LIMIT) output += chunk.toString('utf8').slice(0, OUTPUT_LIMIT - output.length);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    child.once('exit', () => live.delete(child));

    let stopped: Promise<void> | null = null;
    const stopProcess = async (): Promise<void> => {
      // SIGTERM to the main process only: it stops its workers and helpers
      // itself (h2o's privilege-separation helper removes its socket
      // directory in /tmp only when it sees its master go, not when killed).
      if (!exited(child)) {
        child.kill('SIGTERM');
        if (!(await waitExit(child, 5_000))) {
          killGroup(child, 'SIGKILL');
          await waitExit(child, 5_000);
        }
      }
      // Whatever of the group is left gets a moment to finish, then SIGKILL.
      await waitGroupGone(child, 2_000);
      killGroup(child, 'SIGKILL');
      live.delete(child);
      child.stdout?.destroy();
      child.stderr?.destroy();
    };
    const handle: ServerHandle = {
      name: spec.name,
      host: '127.0.0.1',
      port,
      authority: `127.0.0.1:${port}`,
      dir: spec.dir,
      pid: child.pid ?? -1,
      output: () => output,
      stop: () => {
        stopped ??= stopProcess().then(() => rm(spec.dir, { recursive: true, force: true }));
        return stopped;
      },
    };
    try {
      await Promise.race([
        waitForPort(port, { process: child, timeoutMs: spec.startTimeoutMs ?? 15_000 }),
        spawnError.then((err) => {
          throw err;
        }),
      ]);
      return handle;
    } catch (err) {
      await stopProcess();
      let logs = '';
      for (const file of spec.logFiles ?? []) {
        logs += await readIfExists(file).then((text) => (text === '' ? '' : `\n--- ${file}:\n${text}`));
      }
      const text = output + logs;
      lastFailure = new Error(`${spec.name} ${args.join(' ')} did not start: ${(err as Error).message}\n${text}`);
      if (!/address already in use|EADDRINUSE|bind\(\).*failed/i.test(text)) break;
    }
  }
  await rm(spec.dir, { recursive: true, force: true });
  throw lastFailure ?? new Error(`${spec.name} did not start`);
}

async function readIfExists(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).slice(-OUTPUT_LIMIT);
  } catch {
    return '';
  }
}

// --- nghttpd -------------------------------------------------------------------

/** Options of {@link startNghttpd}. */
export interface NghttpdOptions {
  /** The document root (-d). */
  docRoot: string;
  /** TLS with the test certificate (default), or cleartext h2c with prior knowledge (--no-tls). */
  tls?: boolean;
  /** Push mapping (-p): request path -> paths pushed with it. */
  push?: Record<string, string[]>;
  /** --echo-upload: a POST or PUT is answered with its own body. */
  echoUpload?: boolean;
  /** -m: SETTINGS_MAX_CONCURRENT_STREAMS. nghttpd's default is 100. */
  maxConcurrentStreams?: number;
  /** Extra arguments. */
  extraArgs?: string[];
}

/** Starts nghttpd on 127.0.0.1. */
export async function startNghttpd(options: NghttpdOptions): Promise<ServerHandle> {
  const dir = await makeTempDir('nghttpd');
  return launch({
    name: 'nghttpd',
    dir,
    args: (port) => {
      const args = ['-a', '127.0.0.1', '-d', options.docRoot];
      for (const [from, to] of Object.entries(options.push ?? {})) args.push(`-p${from}=${to.join(',')}`);
      if (options.echoUpload === true) args.push('--echo-upload');
      if (options.maxConcurrentStreams !== undefined) args.push('-m', String(options.maxConcurrentStreams));
      args.push(...(options.extraArgs ?? []));
      if (options.tls === false) args.push('--no-tls', String(port));
      else args.push(String(port), KEY_FILE, CERT_FILE);
      return args;
    },
  });
}

// --- nginx ---------------------------------------------------------------------

/** Options of {@link startNginx}. */
export interface NginxOptions {
  docRoot: string;
  /** `h2` (default): TLS with http2 (ALPN h2 and http/1.1); `h1-tls`: TLS, HTTP/1.1 only; `plain`: cleartext HTTP/1.1. */
  mode?: 'h2' | 'h1-tls' | 'plain';
  /** Extra lines inside the server block. */
  extraConfig?: string;
  /** `http2_push` per exact location: request path -> pushed paths. */
  push?: Record<string, string[]>;
}

/** Starts nginx (master and one worker) with h2 over TLS on 127.0.0.1, its config, logs and temp paths in a temp directory. */
export async function startNginx(options: NginxOptions): Promise<ServerHandle> {
  const mode = options.mode ?? 'h2';
  const dir = await makeTempDir('nginx');
  const conf = path.join(dir, 'nginx.conf');
  const errorLog = path.join(dir, 'error.log');
  const locations = Object.entries(options.push ?? {})
    .map(([from, to]) => `    location = ${from} {\n${to.map((p) => `      http2_push ${p};\n`).join('')}    }\n`)
    .join('');
  return launch({
    name: 'nginx',
    dir,
    logFiles: [errorLog],
    args: async (port) => {
      const text = [
        // Workers must be able to read the 0700 temp directories.
        isRoot ? 'user root;' : '',
        'worker_processes 1;',
        `pid ${path.join(dir, 'nginx.pid')};`,
        `error_log ${errorLog} notice;`,
        'events { worker_connections 1024; }',
        'http {',
        '  access_log off;',
        `  client_body_temp_path ${path.join(dir, 'client_body')};`,
        `  proxy_temp_path ${path.join(dir, 'proxy')};`,
        `  fastcgi_temp_path ${path.join(dir, 'fastcgi')};`,
        `  uwsgi_temp_path ${path.join(dir, 'uwsgi')};`,
        `  scgi_temp_path ${path.join(dir, 'scgi')};`,
        '  types { text/plain txt; text/css css; text/html html; application/javascript js; application/octet-stream bin; }',
        '  default_type application/octet-stream;',
        '  server {',
        `    listen 127.0.0.1:${port}${mode === 'plain' ? '' : mode === 'h1-tls' ? ' ssl' : ' ssl http2'};`,
        '    server_name localhost;',
        mode === 'plain' ? '' : `    ssl_certificate ${CERT_FILE};`,
        mode === 'plain' ? '' : `    ssl_certificate_key ${KEY_FILE};`,
        '    keepalive_requests 100000;',
        `    root ${options.docRoot};`,
        locations,
        options.extraConfig ?? '',
        '  }',
        '}',
        '',
      ].join('\n');
      await writeFile(conf, text);
      return ['-p', `${dir}/`, '-e', errorLog, '-c', conf, '-g', 'daemon off;'];
    },
  });
}

// --- h2o -----------------------------------------------------------------------

/** Options of {@link startH2o}. */
export interface H2oOptions {
  docRoot: string;
}

/** Starts h2o with h2 over TLS on 127.0.0.1 from a generated YAML config. */
export async function startH2o(options: H2oOptions): Promise<ServerHandle> {
  const dir = await makeTempDir('h2o');
  const conf = path.join(dir, 'h2o.conf');
  const errorLog = path.join(dir, 'error.log');
  return launch({
    name: 'h2o',
    dir,
    logFiles: [errorLog],
    args: async (port) => {
      const text = [
        // As root without `user`, h2o drops to nobody, who cannot read the temp directories.
        isRoot ? 'user: root' : '',
        `error-log: ${JSON.stringify(errorLog)}`,
        'access-log: /dev/null',
        'num-threads: 1',
        'hosts:',
        '  default:',
        '    listen:',
        '      host: 127.0.0.1',
        `      port: ${port}`,
        '      ssl:',
        `        certificate-file: ${JSON.stringify(CERT_FILE)}`,
        `        key-file: ${JSON.stringify(KEY_FILE)}`,
        // The test certificate has no OCSP responder; do not spawn the fetcher.
        '        ocsp-update-interval: 0',
        '    paths:',
        '      /:',
        `        file.dir: ${JSON.stringify(options.docRoot)}`,
        '',
      ].join('\n');
      await writeFile(conf, text);
      return ['-c', conf];
    },
  });
}

// --- apache2 (h2c by Upgrade) -----------------------------------------------------

/** Options of {@link startApache}. */
export interface ApacheOptions {
  /** The document root; it must be readable by www-data when run as root. */
  docRoot: string;
}

/** The directory of Apache's modules on Debian. */
const APACHE_MODULES = '/usr/lib/apache2/modules';

/**
 * Starts apache2 in the foreground, cleartext, with mod_http2 and
 * `Protocols h2c http/1.1`: it accepts `Upgrade: h2c` (RFC 7540 §3.2).
 * The worker MPM: with the event MPM, Debian's 2.4 answers the upgraded
 * request and then idles the connection into a GOAWAY.
 */
export async function startApache(options: ApacheOptions): Promise<ServerHandle> {
  const dir = await makeTempDir('apache2');
  const conf = path.join(dir, 'httpd.conf');
  const errorLog = path.join(dir, 'error.log');
  return launch({
    name: 'apache2',
    dir,
    logFiles: [errorLog],
    args: async (port) => {
      const text = [
        `ServerRoot ${dir}`,
        `PidFile ${path.join(dir, 'httpd.pid')}`,
        `ErrorLog ${errorLog}`,
        'LogLevel warn',
        `Listen 127.0.0.1:${port}`,
        `LoadModule mpm_worker_module ${APACHE_MODULES}/mod_mpm_worker.so`,
        `LoadModule authz_core_module ${APACHE_MODULES}/mod_authz_core.so`,
        `LoadModule mime_module ${APACHE_MODULES}/mod_mime.so`,
        `LoadModule http2_module ${APACHE_MODULES}/mod_http2.so`,
        'TypesConfig /etc/mime.types',
        // Apache refuses to serve as root; its workers run as www-data.
        isRoot ? 'User www-data\nGroup www-data' : '',
        'ServerName localhost',
        `DocumentRoot ${options.docRoot}`,
        'Protocols h2c http/1.1',
        'H2Upgrade on',
        `<Directory ${options.docRoot}>`,
        '  Require all granted',
        '</Directory>',
        '',
      ].join('\n');
      await writeFile(conf, text);
      return ['-f', conf, '-DFOREGROUND'];
    },
  });
}

// --- squid (an HTTP proxy) -----------------------------------------------------------

/** Options of {@link startSquid}. */
export interface SquidOptions {
  /** Require Basic proxy authentication with this user and password. */
  auth?: { user: string; password: string };
  /** Ports CONNECT may reach (default: any). */
  connectPorts?: number[];
}

/**
 * Starts squid in the foreground on 127.0.0.1, no cache, allowing requests
 * from localhost: CONNECT tunnels and absolute-form requests.
 */
export async function startSquid(options: SquidOptions = {}): Promise<ServerHandle> {
  const dir = await makeTempDir('squid');
  // squid drops to its own user, which must write its logs and pid here.
  await chmod(dir, 0o777);
  const conf = path.join(dir, 'squid.conf');
  const cacheLog = path.join(dir, 'cache.log');
  let authLines: string[] = [];
  if (options.auth !== undefined) {
    const passwd = path.join(dir, 'passwd');
    execFileSync(which('htpasswd') ?? 'htpasswd', ['-b', '-c', passwd, options.auth.user, options.auth.password], { stdio: 'ignore' });
    await chmod(passwd, 0o644);
    authLines = [
      `auth_param basic program /usr/lib/squid/basic_ncsa_auth ${passwd}`,
      'auth_param basic realm hyperwire-test',
      'acl authenticated proxy_auth REQUIRED',
      'http_access deny !authenticated',
    ];
  }
  return launch({
    name: 'squid',
    dir,
    logFiles: [cacheLog],
    startTimeoutMs: 30_000,
    args: async (port) => {
      const text = [
        `http_port 127.0.0.1:${port}`,
        `pid_filename ${path.join(dir, 'squid.pid')}`,
        `cache_log ${cacheLog}`,
        `access_log ${path.join(dir, 'access.log')}`,
        `coredump_dir ${dir}`,
        'cache deny all',
        'visible_hostname localhost',
        'shutdown_lifetime 0 seconds',
        `acl tunnel_ports port ${(options.connectPorts ?? []).join(' ') || '1-65535'}`,
        'acl CONNECT method CONNECT',
        'http_access deny CONNECT !tunnel_ports',
        ...authLines,
        'http_access allow localhost',
        'http_access deny all',
        '',
      ].join('\n');
      await writeFile(conf, text);
      return ['-N', '-f', conf];
    },
  });
}

// --- counting connections at a server ----------------------------------------------

export { establishedTo } from './established.js';

// --- dante (a SOCKS 4 and 5 proxy) -----------------------------------------------

/** Options of {@link startDante}. */
export interface DanteOptions {
  /**
   * Require SOCKS5 username/password authentication. dante checks the
   * system's password database, so the user must exist there: see
   * {@link withSystemUser}.
   */
  auth?: boolean;
}

/** Starts danted in the foreground on 127.0.0.1, one process, allowing CONNECT from localhost to anywhere. */
export async function startDante(options: DanteOptions = {}): Promise<ServerHandle> {
  const dir = await makeTempDir('dante');
  await chmod(dir, 0o777);
  const conf = path.join(dir, 'danted.conf');
  const log = path.join(dir, 'danted.log');
  return launch({
    name: 'danted',
    dir,
    logFiles: [log],
    args: async (port) => {
      const text = [
        `logoutput: ${log}`,
        `internal: 127.0.0.1 port = ${port}`,
        'external: 127.0.0.1',
        `socksmethod: ${options.auth === true ? 'username' : 'none'}`,
        'clientmethod: none',
        // Reading the password database takes the privileged user.
        isRoot ? 'user.privileged: root' : '',
        'user.unprivileged: nobody',
        // A rule's log list must end its line.
        'client pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  log: error\n}',
        'socks pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  command: connect\n  log: error connect\n}',
        '',
      ].join('\n');
      await writeFile(conf, text);
      return ['-f', conf, '-N', '1', '-p', path.join(dir, 'danted.pid')];
    },
  });
}

/**
 * Runs `fn` with a throwaway system user (no home, no shell) that has
 * `password`, removed afterwards: dante's `username` method checks the
 * system's password database. Needs root (as CI runs).
 */
export async function withSystemUser<T>(user: string, password: string, fn: () => Promise<T>): Promise<T> {
  if (!isRoot) throw new Error(`creating the system user ${user} for the SOCKS authentication tests needs root`);
  const remove = (): void => {
    try {
      execFileSync('userdel', [user], { stdio: 'ignore' });
    } catch {
      // Not there.
    }
  };
  remove();
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user], { stdio: 'ignore' });
  try {
    execFileSync('chpasswd', [], { input: `${user}:${password}\n`, stdio: ['pipe', 'ignore', 'ignore'] });
    return await fn();
  } finally {
    remove();
  }
}

// --- Node's own http2 server ---------------------------------------------------

/** A node:http2 server started by {@link startNodeHttp2}. */
export interface NodeHttp2Handle {
  readonly server: http2.Http2SecureServer;
  readonly port: number;
  readonly authority: string;
  /** Closes the server; sessions still open after `ms` are destroyed. */
  stop(ms?: number): Promise<void>;
}

/** Starts node:http2's TLS server on 127.0.0.1 with the test certificate. */
export async function startNodeHttp2(
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void,
  settings: http2.Settings = {},
): Promise<NodeHttp2Handle> {
  const [key, cert] = await Promise.all([readFile(KEY_FILE), readFile(CERT_FILE)]);
  const server = http2.createSecureServer({ key, cert, settings });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  server.on('stream', onStream);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('node:http2 server has no port');
  let stopped: Promise<void> | null = null;
  return {
    server,
    port: address.port,
    authority: `127.0.0.1:${address.port}`,
    stop: (ms = 5_000) => {
      stopped ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          for (const s of sessions) s.destroy();
        }, ms);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        for (const s of sessions) s.close();
      });
      return stopped;
    },
  };
}
