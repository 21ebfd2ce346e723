/**
 * The open-loop client of `npm run bench`, in a process of its own so that nothing else the benchmark
 * does pauses it:
 *
 *   node dist/bench/open-loop.js <url> <rate> <warm-up seconds> <seconds>
 *
 * Signs its events with BENCH_SECRET, then prints one line: the `LoadResult` as JSON.
 */
import { openLoop, presign } from './load.js';

const [url, rate, warmupSeconds, seconds] = process.argv.slice(2);
const secret = process.env.BENCH_SECRET;
if (!url || !secret || !(Number(rate) > 0) || !(Number(warmupSeconds) >= 0) || !(Number(seconds) > 0)) {
  console.error('usage: BENCH_SECRET=... node dist/bench/open-loop.js <url> <rate> <warm-up seconds> <seconds>');
  process.exit(2);
}
const events = presign(Number(rate) * (Number(warmupSeconds) + Number(seconds)), secret);
const result = await openLoop(url, events, Number(rate), Number(warmupSeconds), Number(seconds));
console.log(JSON.stringify(result));
