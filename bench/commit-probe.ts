/**
 * The commit probe of `npm run bench`, in a process of its own as the open-loop client is:
 *
 *   node dist/bench/commit-probe.js <database url> <rate> <warm-up seconds> <seconds>
 *
 * Prints one line: the `OpenLoopResult` of `commitLoop` as JSON. The rate, and the rate times each
 * duration, must be whole numbers.
 */
import { commitLoop } from './commit-loop.js';

const [url, rate, warmupSeconds, seconds] = process.argv.slice(2);
if (!url || !(Number(rate) > 0) || !(Number(warmupSeconds) >= 0) || !(Number(seconds) > 0)) {
  console.error('usage: node dist/bench/commit-probe.js <database url> <rate> <warm-up seconds> <seconds>');
  process.exit(2);
}
const result = await commitLoop(url, Number(rate), Number(warmupSeconds), Number(seconds));
// A commit that timed out may still hold a connection open: once the result is out, stop.
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
