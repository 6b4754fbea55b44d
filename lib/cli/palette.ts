/**
 * The colours of hyper's output, by role, over picocolors. Whether colour
 * is on is decided here once, from the terminal and the environment, not
 * by picocolors' own guess: that one looks at stdout only, and turns
 * colour on whenever `CI` is set, even for a pipe.
 */

import picocolors from 'picocolors';

/** A function that styles a piece of text (or leaves it as it is). */
export type Style = (text: string) => string;

/** The styles of each kind of thing hyper prints. */
export interface Palette {
  readonly enabled: boolean;
  method: Style;
  url: Style;
  protocol: Style;
  /** The status code, coloured by its class. */
  status(code: number): Style;
  reason: Style;
  headerName: Style;
  headerValue: Style;
  /** Notes in the output (skipped binary bodies, pushes). */
  note: Style;
  jsonKey: Style;
  jsonString: Style;
  jsonNumber: Style;
  jsonLiteral: Style;
  jsonPunctuation: Style;
  /** --debug: the timestamp, the direction, the frame name, its details. */
  time: Style;
  send: Style;
  recv: Style;
  frame: Style;
  detail: Style;
  error: Style;
  warning: Style;
}

/**
 * Whether to colour output to a stream: it must be a terminal, and
 * neither NO_COLOR (https://no-color.org) nor TERM=dumb may say no.
 * FORCE_COLOR forces it on.
 */
export function colourWanted(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '' && env['FORCE_COLOR'] !== '0') return true;
  return isTTY && env['TERM'] !== 'dumb';
}

/** A palette with colours on or off. */
export function createPalette(enabled: boolean): Palette {
  const c = picocolors.createColors(enabled);
  return {
    enabled,
    method: (t) => c.bold(c.green(t)),
    url: (t) => c.bold(t),
    protocol: (t) => c.blue(t),
    status: (code) => (t) => c.bold(code >= 500 ? c.red(t) : code >= 400 ? c.red(t) : code >= 300 ? c.yellow(t) : code >= 200 ? c.green(t) : c.cyan(t)),
    reason: (t) => c.cyan(t),
    headerName: (t) => c.cyan(t),
    headerValue: (t) => t,
    note: (t) => c.dim(t),
    jsonKey: (t) => c.blue(t),
    jsonString: (t) => c.yellow(t),
    jsonNumber: (t) => c.cyan(t),
    jsonLiteral: (t) => c.magenta(t),
    jsonPunctuation: (t) => t,
    time: (t) => c.dim(t),
    send: (t) => c.bold(c.green(t)),
    recv: (t) => c.bold(c.blue(t)),
    frame: (t) => c.bold(t),
    detail: (t) => c.dim(t),
    error: (t) => c.red(t),
    warning: (t) => c.yellow(t),
  };
}
