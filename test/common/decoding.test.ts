import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BodyQueue } from '../../lib/common/body-queue.js';
import { ConnectionError, DecodeError } from '../../lib/common/errors.js';
import { HTTPHeaderMap } from '../../lib/common/headers.js';
import { HTTP20Response } from '../../lib/http2/response.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const liveTimers = (): number => process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;

/** A response over a queue with a read timeout, counting timeouts. */
function responseOver(encoding: string, readTimeout: number): { q: BodyQueue; res: HTTP20Response; timeouts: () => number } {
  let timeouts = 0;
  const q = new BodyQueue({ bodyConsumed: () => {}, bodyTimedOut: () => timeouts++ }, readTimeout);
  const res = new HTTP20Response({
    streamId: 1,
    status: 200,
    headers: new HTTPHeaderMap([['content-encoding', encoding]]),
    body: q,
    owner: {
      responseTrailers: () => null,
      closeResponse: () => q.fail(new ConnectionError('HW_ERR_STREAM_CANCELLED', 'closed'), true),
    },
  });
  return { q, res, timeouts: () => timeouts };
}

describe('content decoding over the body queue', () => {
  // Text that does not compress to almost nothing, so a corrupted stretch
  // sits well inside the encoded body.
  let seed = 1;
  const plain = Buffer.alloc(200_000);
  for (let i = 0; i < plain.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    plain[i] = 97 + ((seed >> 16) % 8);
  }

  for (const [encoding, encoded] of [
    ['gzip', zlib.gzipSync(plain)],
    ['br', zlib.brotliCompressSync(plain)],
    ['deflate', zlib.deflateSync(plain)],
  ] as const) {
    it(`${encoding}: a body in small pieces decodes whole`, async () => {
      const { q, res } = responseOver(encoding, 0);
      for (let i = 0; i < encoded.length; i += 100) q.push(encoded.subarray(i, i + 100));
      q.end();
      expect((await res.read()).equals(plain)).toBe(true);
    });

    it(`${encoding}: a corrupt body fails the read, and no read is left waiting to time out later`, async () => {
      const before = liveTimers();
      const { q, res, timeouts } = responseOver(encoding, 50);
      const bad = Buffer.from(encoded);
      bad.fill(0x55, 100, 400);
      q.push(bad);
      // The body neither ends nor fails: the server has gone quiet.
      const err = await res.read().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DecodeError);
      expect((err as DecodeError).code).toBe('HW_ERR_DECODE');
      expect((err as DecodeError).cause).toBeInstanceOf(Error);
      await sleep(150);
      expect(timeouts()).toBe(0);
      expect(liveTimers()).toBeLessThanOrEqual(before);
    });
  }

  it('an error of the body itself (a reset stream) passes through as it is, not as a DecodeError', async () => {
    const { q, res } = responseOver('gzip', 0);
    q.push(zlib.gzipSync(plain).subarray(0, 1000));
    const reset = new ConnectionError('HW_ERR_STREAM_RESET', 'reset', { scope: 'stream' });
    setTimeout(() => q.fail(reset), 10);
    await expect(res.read()).rejects.toBe(reset);
  });
});
