/**
 * The `hyper` command line: `hyper [OPTIONS] [METHOD] URL [REQUEST_ITEM ...]`.
 *
 * Options are declared once, in {@link OPTIONS}; the parser and `--help`
 * both read that table, so the help cannot fall behind the parser. Long
 * options take their value as `--name value` or `--name=value`; short
 * flags may be bundled (`-vF`), and a short option's value may follow it
 * directly (`-ofile`). `--` ends the options.
 */

/** What `--pretty` asks for (httpie's values). */
export type Pretty = 'all' | 'colors' | 'format' | 'none';

/** How the request's data items are encoded. */
export type BodyKind = 'json' | 'form';

/** `--auth-type`. */
export type AuthType = 'basic' | 'digest';

/** The command line, parsed. Nothing here has touched the network or the file system. */
export interface CliOptions {
  help: boolean;
  version: boolean;
  debug: boolean;
  /** The method given on the command line (upper-cased), or null for the default. */
  method: string | null;
  /** The URL as typed (see url.ts for the shorthands). */
  url: string;
  /** The request items, as typed. */
  items: string[];
  /** `--print`: any of H, B, h, b; null when not given (then it depends on the other options and the terminal). */
  print: string | null;
  verbose: boolean;
  /** `--pretty`; null when not given (then: all on a terminal, none otherwise). */
  pretty: Pretty | null;
  bodyKind: BodyKind;
  http1: boolean;
  http2: boolean;
  h2c: boolean;
  upgrade: boolean;
  push: boolean;
  insecure: boolean;
  cacert: string | null;
  cert: string | null;
  key: string | null;
  /** The passphrase of an encrypted client key. */
  pass: string | null;
  proxy: string | null;
  /** `--timeout`, in seconds; null for the library's defaults. */
  timeout: number | null;
  follow: boolean;
  maxRedirects: number;
  /** `--auth user:password`, as typed. */
  auth: string | null;
  authType: AuthType;
  checkStatus: boolean;
  download: boolean;
  output: string | null;
  continue: boolean;
}

/** A mistake on the command line: reported with the usage line, exit status 1. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** One option of the table: its names, its value, its help and example, and what it sets. */
export interface OptionSpec {
  long: string;
  short?: string;
  /** The name of its value in the help (`FILE`, `SECONDS`...); absent for a flag. */
  value?: string;
  /** What it does, for the help. */
  help: string;
  /** An example command line, for the help. */
  example: string;
  apply(options: CliOptions, value: string): void;
}

const PRETTY: readonly Pretty[] = ['all', 'colors', 'format', 'none'];

function flag(long: string, short: string | undefined, help: string, example: string, apply: (o: CliOptions) => void): OptionSpec {
  return short === undefined ? { long, help, example, apply } : { long, short, help, example, apply };
}

function valued(long: string, short: string | undefined, value: string, help: string, example: string, apply: (o: CliOptions, v: string) => void): OptionSpec {
  return short === undefined ? { long, value, help, example, apply } : { long, short, value, help, example, apply };
}

/** Every option, in the order `--help` lists them. */
export const OPTIONS: readonly OptionSpec[] = [
  flag('help', 'h', 'Show this help and exit.', 'hyper --help', (o) => (o.help = true)),
  flag('version', undefined, 'Show the version and exit.', 'hyper --version', (o) => (o.version = true)),
  flag('debug', undefined, 'Trace the connection on stderr: every HTTP/2 frame sent and received (type, flags, stream, length), decoded header blocks with HPACK table activity, SETTINGS by name; raw heads on HTTP/1.1.', 'hyper --debug https://localhost:8443/', (o) => (o.debug = true)),
  flag('verbose', 'v', 'Show the request as well as the response (--print=HBhb).', 'hyper -v example.org', (o) => (o.verbose = true)),
  valued('print', 'p', 'WHAT', 'What to show: H request headers, B request body, h response headers, b response body. Default: hb on a terminal, b when piped.', 'hyper -p Hh example.org', (o, v) => {
    if (!/^[HBhb]+$/.test(v)) throw new UsageError(`--print takes letters among H, B, h and b, not ${JSON.stringify(v)}`);
    o.print = v;
  }),
  flag('headers', undefined, 'Show the response headers only (--print=h).', 'hyper --headers example.org', (o) => (o.print = 'h')),
  flag('body', 'b', 'Show the response body only (--print=b), even on a terminal.', 'hyper -b example.org/data.json', (o) => (o.print = 'b')),
  valued('pretty', undefined, 'STYLE', 'all (colours and formatting), colors, format (JSON indented) or none. Default: all on a terminal, none when piped.', 'hyper --pretty=format example.org/data.json', (o, v) => {
    if (!(PRETTY as readonly string[]).includes(v)) throw new UsageError(`--pretty takes one of ${PRETTY.join(', ')}, not ${JSON.stringify(v)}`);
    o.pretty = v as Pretty;
  }),
  flag('json', 'j', 'Send the data items as a JSON object (the default).', 'hyper -j PUT example.org/api name=hyper', (o) => (o.bodyKind = 'json')),
  flag('form', 'f', 'Send the data items as a form (urlencoded; multipart when a file is given).', 'hyper -f POST example.org/login user=ann', (o) => (o.bodyKind = 'form')),
  flag('http1', undefined, 'Speak HTTP/1.1 only (no ALPN h2, no h2c upgrade).', 'hyper --http1 https://example.org/', (o) => (o.http1 = true)),
  flag('http2', undefined, 'Require HTTP/2: fail (exit 1) unless the server agrees to it.', 'hyper --http2 https://example.org/', (o) => (o.http2 = true)),
  flag('h2c', undefined, 'Cleartext HTTP/2 with prior knowledge: the connection preface from the first octet, no upgrade.', 'hyper --h2c :8080/', (o) => (o.h2c = true)),
  flag('upgrade', undefined, 'Cleartext HTTP/2 by "Upgrade: h2c" (RFC 7540 §3.2), and fail unless the server switches. Without it, http:// URLs try the upgrade and fall back to HTTP/1.1 quietly.', 'hyper --upgrade :8080/', (o) => (o.upgrade = true)),
  flag('no-push', undefined, 'Refuse server push (SETTINGS_ENABLE_PUSH=0). By default pushes are accepted and listed.', 'hyper --no-push https://localhost:8443/', (o) => (o.push = false)),
  flag('insecure', 'k', 'Do not verify the server\'s certificate.', 'hyper -k https://self-signed.example/', (o) => (o.insecure = true)),
  valued('cacert', undefined, 'FILE', 'Trust the CA certificates in this PEM file (instead of the system\'s).', 'hyper --cacert ca.pem https://localhost:8443/', (o, v) => (o.cacert = v)),
  valued('cert', undefined, 'FILE', 'Client certificate (PEM), for TLS client authentication.', 'hyper --cert me.pem --key me.key https://mtls.example/', (o, v) => (o.cert = v)),
  valued('key', undefined, 'FILE', 'The private key (PEM) of --cert, when it is not in the same file.', 'hyper --cert me.pem --key me.key https://mtls.example/', (o, v) => (o.key = v)),
  valued('pass', undefined, 'PHRASE', 'The passphrase of an encrypted client key.', 'hyper --cert me.pem --key me.key --pass s3cret https://mtls.example/', (o, v) => (o.pass = v)),
  valued('proxy', undefined, 'URL', 'Send the request through this proxy (http://, https:// or socks5h://). HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY are read otherwise.', 'hyper --proxy http://127.0.0.1:3128 example.org', (o, v) => (o.proxy = v)),
  valued('timeout', undefined, 'SECONDS', 'Give up when connecting, or waiting for data, takes longer than this (exit 2).', 'hyper --timeout 2.5 example.org', (o, v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--timeout takes a positive number of seconds, not ${JSON.stringify(v)}`);
    o.timeout = n;
  }),
  flag('follow', 'F', 'Follow redirects (off by default, as in httpie).', 'hyper -F example.org/moved', (o) => (o.follow = true)),
  valued('max-redirects', undefined, 'N', 'With --follow: at most N redirects (default 30); more is exit 3.', 'hyper -F --max-redirects 5 example.org/moved', (o, v) => {
    if (!/^\d+$/.test(v)) throw new UsageError(`--max-redirects takes a whole number, not ${JSON.stringify(v)}`);
    o.maxRedirects = Number(v);
  }),
  valued('auth', 'a', 'USER:PASS', 'Credentials (Basic unless --auth-type says otherwise).', 'hyper -a ann:secret example.org/private', (o, v) => (o.auth = v)),
  valued('auth-type', 'A', 'TYPE', 'basic (the default) or digest.', 'hyper -A digest -a ann:secret example.org/private', (o, v) => {
    if (v !== 'basic' && v !== 'digest') throw new UsageError(`--auth-type takes basic or digest, not ${JSON.stringify(v)}`);
    o.authType = v;
  }),
  flag('check-status', undefined, 'Exit 3 for an unfollowed 3xx, 4 for a 4xx and 5 for a 5xx response.', 'hyper --check-status example.org/missing', (o) => (o.checkStatus = true)),
  flag('download', 'd', 'Save the body to a file named by Content-Disposition or the URL, with a progress bar on stderr.', 'hyper -d example.org/files/big.iso', (o) => (o.download = true)),
  valued('output', 'o', 'FILE', 'Save the body to FILE (with a progress bar on stderr).', 'hyper -o page.html example.org', (o, v) => (o.output = v)),
  flag('continue', 'c', 'With --download or --output: resume a partial file with a Range request.', 'hyper -d -c example.org/files/big.iso', (o) => (o.continue = true)),
];

/** The options before any are given. */
export function defaultOptions(): CliOptions {
  return {
    help: false,
    version: false,
    debug: false,
    method: null,
    url: '',
    items: [],
    print: null,
    verbose: false,
    pretty: null,
    bodyKind: 'json',
    http1: false,
    http2: false,
    h2c: false,
    upgrade: false,
    push: true,
    insecure: false,
    cacert: null,
    cert: null,
    key: null,
    pass: null,
    proxy: null,
    timeout: null,
    follow: false,
    maxRedirects: 30,
    auth: null,
    authType: 'basic',
    checkStatus: false,
    download: false,
    output: null,
    continue: false,
  };
}

const BY_LONG = new Map(OPTIONS.map((o) => [o.long, o]));
const BY_SHORT = new Map(OPTIONS.filter((o) => o.short !== undefined).map((o) => [o.short!, o]));

/** Methods recognised in lower case too; any other word counts as a method only when upper-case (`PURGE`). */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

/**
 * Parses the arguments after the program name. Throws a {@link UsageError}
 * for anything it cannot make sense of.
 */
export function parseArgs(argv: readonly string[]): CliOptions {
  const options = defaultOptions();
  const positional: string[] = [];
  let i = 0;
  const valueOf = (spec: OptionSpec, inline: string | undefined, shown: string): string => {
    if (inline !== undefined) return inline;
    const next = argv[++i];
    if (next === undefined) throw new UsageError(`${shown} needs a value (${spec.value})`);
    return next;
  };
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const spec = BY_LONG.get(name);
      if (spec === undefined) throw new UsageError(`unknown option --${name}${suggest(name)}`);
      if (spec.value === undefined) {
        if (eq >= 0) throw new UsageError(`--${name} takes no value`);
        spec.apply(options, '');
      } else {
        spec.apply(options, valueOf(spec, eq < 0 ? undefined : arg.slice(eq + 1), `--${name}`));
      }
      continue;
    }
    // A lone '-' and words that do not start with '-' are positional; so is
    // ':8080' (a URL) though it is not an option either way.
    if (arg.length > 1 && arg.startsWith('-')) {
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j]!;
        const spec = BY_SHORT.get(letter);
        if (spec === undefined) throw new UsageError(`unknown option -${letter}`);
        if (spec.value === undefined) {
          spec.apply(options, '');
          continue;
        }
        const rest = arg.slice(j + 1);
        spec.apply(options, valueOf(spec, rest === '' ? undefined : rest, `-${letter}`));
        break;
      }
      continue;
    }
    positional.push(arg);
  }
  if (options.help || options.version) return options;
  assignPositionals(options, positional);
  checkCombinations(options);
  return options;
}

/**
 * METHOD URL ITEM...: the first word is the method when there is a URL
 * after it and it looks like one (a known method in any case, or any
 * upper-case token). httpie takes any word of letters, which turns
 * `http localhost a=b` into the method LOCALHOST; this rule does not.
 */
function assignPositionals(options: CliOptions, positional: string[]): void {
  if (positional.length === 0) throw new UsageError('the URL is missing');
  const first = positional[0]!;
  if (positional.length > 1 && /^[A-Za-z]+$/.test(first) && (KNOWN_METHODS.has(first.toUpperCase()) || /^[A-Z]+$/.test(first))) {
    options.method = first.toUpperCase();
    options.url = positional[1]!;
    options.items = positional.slice(2);
  } else {
    options.url = first;
    options.items = positional.slice(1);
  }
}

function checkCombinations(o: CliOptions): void {
  const protocols = [o.http1 && '--http1', o.http2 && '--http2', o.h2c && '--h2c', o.upgrade && '--upgrade'].filter((x): x is string => x !== false);
  if (o.http1 && protocols.length > 1) throw new UsageError(`--http1 cannot be combined with ${protocols.filter((p) => p !== '--http1').join(', ')}`);
  if (o.h2c && o.upgrade) throw new UsageError('--h2c (prior knowledge) and --upgrade are two different ways to start h2c: choose one');
  if (o.continue && !o.download && o.output === null) throw new UsageError('--continue needs --download or --output');
  if (o.key !== null && o.cert === null) throw new UsageError('--key needs --cert');
  if (o.pass !== null && o.cert === null) throw new UsageError('--pass needs --cert');
  if (o.auth !== null && !o.auth.includes(':')) throw new UsageError('--auth takes USER:PASS (use "user:" for an empty password)');
}

/** " (did you mean --x?)" for a near miss. */
function suggest(name: string): string {
  let best: string | null = null;
  let bestDistance = 3;
  for (const spec of OPTIONS) {
    const d = distance(name, spec.long);
    if (d < bestDistance) {
      best = spec.long;
      bestDistance = d;
    }
  }
  return best === null ? '' : ` (did you mean --${best}?)`;
}

/** Levenshtein distance, for suggestions: names are short. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The one-line usage. */
export const USAGE = 'usage: hyper [--version] [--help] [--debug] [OPTIONS] [METHOD] URL [REQUEST_ITEM ...]';

/** The text of `--help`: the usage, the positional arguments, every option with an example, the exit statuses. */
export function helpText(): string {
  const lines: string[] = [
    USAGE,
    '',
    'An HTTP/2-first HTTP client (HTTP/1.1 where the server has no HTTP/2).',
    '',
    'Positional arguments:',
    '  METHOD        GET by default, POST when there are data items or files.',
    '  URL           The scheme may be left out: http://, or https:// for port 443.',
    '                ":8080/path" means http://localhost:8080/path.',
    '  REQUEST_ITEM  Header:value      a request header ("Header:" removes a default one, "Header;" sends it empty)',
    '                name==value       a query parameter',
    '                name=value        a data field (a JSON string, or a form field with --form)',
    '                name:=json        a raw JSON value: name:=42, tags:=\'["a","b"]\'',
    '                name@file         a file: the request becomes multipart/form-data',
    '                                  (name@file;type=image/png gives its content type)',
    '                name=@file        a data field read from a file; name:=@file a JSON value read from one',
    '                A backslash escapes a separator: "a\\:b=c" is the field "a:b".',
    '',
    'Options:',
  ];
  for (const spec of OPTIONS) {
    const names = `${spec.short !== undefined ? `-${spec.short}, ` : '    '}--${spec.long}${spec.value !== undefined ? ` ${spec.value}` : ''}`;
    lines.push(`  ${names}`);
    for (const line of wrap(spec.help, 70)) lines.push(`        ${line}`);
    lines.push(`        e.g. ${spec.example}`);
  }
  lines.push(
    '',
    'Output: on a terminal, the status line, headers and body, in colour, JSON indented,',
    'and the server\'s push promises after the headers; binary bodies are not written',
    'to a terminal. When piped, the body alone, byte for byte.',
    '',
    'Exit status: 0 success; 1 error; 2 timeout; 3 too many redirects (and an unfollowed',
    '3xx with --check-status); 4 a 4xx and 5 a 5xx response with --check-status;',
    '130 interrupted.',
    '',
    'Examples:',
    '  hyper https://localhost:8443/',
    '  hyper -v POST example.org/api name=hyper count:=3 X-Trace:on',
    '  hyper -f example.org/upload title=Photo photo@cat.jpg',
    '  hyper --debug --h2c :8080/',
    '  hyper -d https://example.org/files/big.iso',
  );
  return lines.join('\n') + '\n';
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') out.push(line);
  return out;
}
