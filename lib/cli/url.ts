/**
 * The URL as typed on the command line, made absolute the way httpie and
 * curl users expect: the scheme may be left out (`http://`, or `https://`
 * when the port is 443), and `:8080/path` means `localhost`.
 */

import { UsageError } from './args.js';

const HAS_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * An absolute http:// or https:// URL for `typed`. Throws a UsageError
 * for what is not one.
 */
export function normaliseUrl(typed: string): string {
  let text = typed.trim();
  if (text === '') throw new UsageError('the URL is empty');
  if (!HAS_SCHEME.test(text)) {
    // httpie's localhost shorthand: ":3000", ":3000/path", ":/path", ":".
    if (text.startsWith(':')) text = `localhost${text}`;
    text = `${portOf(text) === '443' ? 'https' : 'http'}://${text}`;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`invalid URL ${JSON.stringify(typed)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`unsupported URL scheme ${JSON.stringify(url.protocol.slice(0, -1))}: only http and https`);
  if (url.hostname === '') throw new UsageError(`the URL ${JSON.stringify(typed)} has no host`);
  return url.href;
}

/** The port written in a scheme-less `host:port/...` (bracketed IPv6 allowed), or null. */
function portOf(text: string): string | null {
  const authority = /^[^/?#]*/.exec(text)![0];
  const hostEnd = authority.startsWith('[') ? authority.indexOf(']') + 1 : 0;
  const colon = authority.indexOf(':', hostEnd);
  return colon < 0 ? null : authority.slice(colon + 1);
}
