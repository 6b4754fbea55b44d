/**
 * JSON for the terminal: indented and coloured, token by token. The
 * tokens are re-laid, not re-serialised, so what the server sent stays as
 * it was: numbers beyond double precision, duplicate keys, key order and
 * string escapes all survive (JSON.parse then JSON.stringify keeps none
 * of those).
 */

import type { Palette } from './palette.js';

/** Whether a media type is JSON: application/json, or any `+json` suffix (RFC 6839 §3.1). */
export function isJsonType(contentType: string | null | undefined): boolean {
  if (contentType == null) return false;
  const essence = contentType.split(';')[0]!.trim().toLowerCase();
  return essence === 'application/json' || essence.endsWith('+json') || essence === 'text/json';
}

/**
 * `text` indented by `indent` spaces per level and coloured, or null when
 * it is not one valid JSON text.
 */
export function formatJson(text: string, palette: Palette, indent = 4): string | null {
  try {
    JSON.parse(text);
  } catch {
    return null;
  }
  // Valid JSON, so the scan below need not check the grammar.
  const out: string[] = [];
  const pad = (depth: number): string => '\n' + ' '.repeat(depth * indent);
  let depth = 0;
  // After an opening bracket: the next token decides whether it is empty.
  let justOpened = false;
  // Inside an object, a string before ':' is a key.
  const stack: Array<'{' | '['> = [];
  let expectKey = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (justOpened && c !== '}' && c !== ']') out.push(pad(depth));
    if (c === '{' || c === '[') {
      out.push(palette.jsonPunctuation(c));
      stack.push(c);
      depth++;
      justOpened = true;
      expectKey = c === '{';
      i++;
      continue;
    }
    if (c === '}' || c === ']') {
      depth--;
      stack.pop();
      if (!justOpened) out.push(pad(depth));
      out.push(palette.jsonPunctuation(c));
      justOpened = false;
      expectKey = false;
      i++;
      continue;
    }
    justOpened = false;
    if (c === ',') {
      out.push(palette.jsonPunctuation(','), pad(depth));
      expectKey = stack[stack.length - 1] === '{';
      i++;
      continue;
    }
    if (c === ':') {
      out.push(palette.jsonPunctuation(':'), ' ');
      expectKey = false;
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const token = text.slice(i, j + 1);
      out.push(expectKey ? palette.jsonKey(token) : palette.jsonString(token));
      i = j + 1;
      continue;
    }
    let j = i + 1;
    while (j < n && !/[\s,:\]}]/.test(text[j]!)) j++;
    const token = text.slice(i, j);
    out.push(token === 'true' || token === 'false' || token === 'null' ? palette.jsonLiteral(token) : palette.jsonNumber(token));
    i = j;
  }
  return out.join('');
}
