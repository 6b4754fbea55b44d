// A plain HTTP/2 server (cleartext, prior knowledge) in a process of its own,
// so a test can measure its client's heap without the server's in it.
// Prints the port on stdout, answers every request with 100 octets, and
// exits when its parent goes.
import * as http2 from 'node:http2';

const body = Buffer.alloc(100, 0x78);
const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
server.on('stream', (stream) => {
  stream.respond({ ':status': 200, 'content-length': '100' });
  stream.end(body);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on('disconnect', () => process.exit(0));
