// npm run demo [-- --port 8080]: serve the browser demo from 127.0.0.1 until Ctrl-C.
import { parseArgs } from 'node:util';
import { startDemoServer } from '../src/devserver/demo-server.js';

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const port = values.port === undefined ? 0 : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port expects an integer in [0, 65535], got '${values.port}'`);
  process.exit(2);
}
const server = await startDemoServer({ port });
console.log(`blazeface demo: ${server.url}/  (127.0.0.1 only; Ctrl-C stops)`);
if (server.seed) console.log(`seed photos: ${server.url}/?image=/seed/3faces.png`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
