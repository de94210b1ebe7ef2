/**
 * A werift WHEP viewer in its own process, to be killed without a DELETE:
 *   node test/helpers/viewer-process.ts <whep url> <token>
 * Prints "receiving" once video RTP flows, then stays until killed.
 */
import { until, whepView } from './werift-viewer.ts';

const [url, token] = process.argv.slice(2);
const v = await whepView(url!, token);
if (v.status !== 201) {
  console.log(`status ${v.status}`);
  process.exit(1);
}
await v.connected;
await until(() => v.received.video > 10, 15_000, 'video');
console.log('receiving');
setInterval(() => undefined, 1000);
