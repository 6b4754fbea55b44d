/**
 * The `Referer` a fetch sends: Referrer Policy §8.3 "Determine request's
 * referrer", as the Fetch Standard's main fetch runs it on every hop
 * (§4.1 Main fetch step 8), and §8.1 / §8.2 for a redirect's
 * `Referrer-Policy` (HTTP-redirect fetch step 19).
 *
 * A server-side fetch has no document: a request whose referrer is
 * "client" (the default) sends none, as undici does when no global origin
 * is set. A referrer given as a URL is stripped and filtered by the policy.
 */

/** A request's referrer as the algorithm keeps it. */
export type Referrer = 'no-referrer' | 'client' | URL;

/** The referrer policies (Referrer Policy §3). */
const POLICIES: ReadonlySet<string> = new Set([
  'no-referrer',
  'no-referrer-when-downgrade',
  'same-origin',
  'origin',
  'strict-origin',
  'origin-when-cross-origin',
  'strict-origin-when-cross-origin',
  'unsafe-url',
]);

/** The policy of a request that names none (Fetch Standard: the policy container's default). */
export const DEFAULT_REFERRER_POLICY = 'strict-origin-when-cross-origin';

/** A Request's `referrer` attribute as the algorithm's value: `''` is no referrer, `about:client` the client. */
export function referrerOf(attribute: string): Referrer {
  if (attribute === '') return 'no-referrer';
  if (attribute === 'about:client') return 'client';
  return new URL(attribute);
}

/** Referrer Policy §8.4 "Strip url for use as a referrer". */
function strip(url: URL, originOnly: boolean): URL | null {
  // Local schemes (about, blob, data) are never sent.
  if (url.protocol === 'about:' || url.protocol === 'blob:' || url.protocol === 'data:') return null;
  const out = new URL(url.href);
  out.username = '';
  out.password = '';
  out.hash = '';
  if (originOnly) {
    out.pathname = '';
    out.search = '';
  }
  return out;
}

/** Secure Contexts §3.2 "Is url potentially trustworthy?" for the URLs a fetch meets. */
function trustworthy(url: URL): boolean {
  if (url.href === 'about:blank' || url.href === 'about:srcdoc' || url.protocol === 'data:' || url.protocol === 'blob:') return true;
  if (url.protocol === 'https:' || url.protocol === 'wss:' || url.protocol === 'file:') return true;
  const host = url.hostname;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '[::1]') return true;
  return host === 'localhost' || host === 'localhost.' || host.endsWith('.localhost') || host.endsWith('.localhost.');
}

function sameOrigin(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && a.hostname === b.hostname && a.port === b.port;
}

/**
 * Referrer Policy §8.3: the referrer to send to `current` (a stripped URL),
 * or 'no-referrer'. A 'client' referrer has no document behind it here, so
 * it gives none.
 */
export function determineReferrer(referrer: Referrer, policy: string, current: URL): URL | 'no-referrer' {
  if (referrer === 'no-referrer' || referrer === 'client') return 'no-referrer';
  let referrerURL = strip(referrer, false);
  const referrerOrigin = strip(referrer, true);
  if (referrerURL === null || referrerOrigin === null) return 'no-referrer';
  // Step 6: a referrer longer than 4096 octets is sent as its origin.
  if (referrerURL.href.length > 4096) referrerURL = referrerOrigin;
  const downgrade = trustworthy(referrerURL) && !trustworthy(current);
  switch (policy || DEFAULT_REFERRER_POLICY) {
    case 'no-referrer':
      return 'no-referrer';
    case 'origin':
      return referrerOrigin;
    case 'unsafe-url':
      return referrerURL;
    case 'strict-origin':
      return downgrade ? 'no-referrer' : referrerOrigin;
    case 'same-origin':
      return sameOrigin(referrerURL, current) ? referrerURL : 'no-referrer';
    case 'origin-when-cross-origin':
      return sameOrigin(referrerURL, current) ? referrerURL : referrerOrigin;
    case 'no-referrer-when-downgrade':
      return downgrade ? 'no-referrer' : referrerURL;
    default:
      // strict-origin-when-cross-origin
      if (sameOrigin(referrerURL, current)) return referrerURL;
      return downgrade ? 'no-referrer' : referrerOrigin;
  }
}

/**
 * Referrer Policy §8.1: the policy a response's `Referrer-Policy` names
 * (the last token that is a policy), or '' for none.
 */
export function parseReferrerPolicy(values: readonly string[]): string {
  const tokens = values.join(',').split(',');
  for (let i = tokens.length - 1; i >= 0; i--) {
    const token = tokens[i]!.trim();
    if (POLICIES.has(token)) return token;
  }
  return '';
}
