/**
 * A child for the pool's NODE_DEBUG test: a PoolManager makes one request
 * that is retried once (the server answers 503 with Retry-After first) and
 * prints the body; then, on the warm connection, one whose body fails
 * (shorter than its content-length), with no retries.
 */
import { PoolManager } from '../../lib/index.js';

const http = new PoolManager({ priorKnowledge: true });
const r = await http.request('GET', `http://127.0.0.1:${process.argv[2]}/logged`);
process.stdout.write(r.data!.toString());
await http.request('GET', `http://127.0.0.1:${process.argv[2]}/short`, { retries: false }).then(
  () => process.stdout.write(' and /short did not fail'),
  () => {},
);
await http.close();
