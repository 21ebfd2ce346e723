/**
 * The commit probe of `npm run bench`, in a process of its own as the open-loop client is:
 *
 *   node dist/bench/commit-probe.js <database url> <rate> <warm-up seconds> <seconds>
 *
 * Prints one line: the `OpenLoopResult` of `commitLoop` as JSON.
 */
import { commitLoop } from './commit-loop.js';

const [url, rate, warmupSeconds, seconds] = process.argv.slice(2);
if (!url || !(Number(rate) > 0) || !(Number(warmupSeconds) >= 0) || !(Number(seconds) > 0)) {
  console.error('usage: node dist/bench/commit-probe.js <database url> <rate> <warm-up seconds> <seconds>');
  process.exit(2);
}
console.log(JSON.stringify(await commitLoop(url, Number(rate), Number(warmupSeconds), Number(seconds))));
