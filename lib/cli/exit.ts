/**
 * hyper's exit statuses, as httpie scripts test them, and the one-line
 * message an error is reported with (never a stack trace).
 */

import { TimeoutError } from '../common/errors.js';
import { MaxRetryError } from '../pool/errors.js';
import { TooManyRedirects } from '../client/client.js';

/** The exit statuses. */
export const ExitStatus = {
  SUCCESS: 0,
  ERROR: 1,
  TIMEOUT: 2,
  /** Too many redirects; with --check-status also a 3xx that was not followed. */
  TOO_MANY_REDIRECTS: 3,
  HTTP_3XX: 3,
  HTTP_4XX: 4,
  HTTP_5XX: 5,
  /** Interrupted (128 + SIGINT), as a shell reports it. */
  INTERRUPTED: 130,
} as const;

/** The status for a response under --check-status: 0 for 1xx and 2xx. */
export function statusForResponse(status: number): number {
  if (status >= 500) return ExitStatus.HTTP_5XX;
  if (status >= 400) return ExitStatus.HTTP_4XX;
  if (status >= 300) return ExitStatus.HTTP_3XX;
  return ExitStatus.SUCCESS;
}

/** The exit status for an error. */
export function statusForError(err: unknown): number {
  const e = unwrap(err);
  if (e instanceof TimeoutError) return ExitStatus.TIMEOUT;
  if (e instanceof TooManyRedirects) return ExitStatus.TOO_MANY_REDIRECTS;
  return ExitStatus.ERROR;
}

/** The error under a MaxRetryError: what actually went wrong. */
function unwrap(err: unknown): unknown {
  let e = err;
  while (e instanceof MaxRetryError && e.reason !== null) e = e.reason;
  return e;
}

/**
 * One line for an error: its message, and its cause's where that says
 * more (a connection error names the errno there). Newlines are folded,
 * so the report stays one line.
 */
export function errorMessage(err: unknown): string {
  const e = unwrap(err);
  let text: string;
  if (e instanceof Error) {
    text = e.message || e.name;
    const cause = e.cause;
    if (cause instanceof Error && cause.message !== '' && !text.includes(cause.message)) text += `: ${cause.message}`;
  } else {
    text = String(e);
  }
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
