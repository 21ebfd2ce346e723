import { describe, expect, it } from '@jest/globals';
import { backoffDelay, concurrencyLimit, sleep } from './delivery.js';

describe('backoffDelay', () => {
  it("doubles from the base like Magic Hour's 1 s, 2 s, 4 s, 8 s", () => {
    const policy = { baseMs: 1000, capMs: 86_400_000 };
    expect([1, 2, 3, 4, 5].map((retry) => backoffDelay(retry, policy))).toEqual([1000, 2000, 4000, 8000, 16000]);
  });

  it('stops growing at the cap', () => {
    const policy = { baseMs: 250, capMs: 1500 };
    expect([1, 2, 3, 4, 10].map((retry) => backoffDelay(retry, policy))).toEqual([250, 500, 1000, 1500, 1500]);
  });
});

describe('concurrencyLimit', () => {
  it('never runs more than its limit at once, and starts waiting tasks in order', async () => {
    const limit = concurrencyLimit(3);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, (_, n) =>
        limit(async () => {
          started.push(n);
          running++;
          most = Math.max(most, running);
          await sleep(5 + (n % 3) * 5);
          running--;
        }),
      ),
    );
    expect(most).toBe(3);
    expect(started).toEqual([...Array(12).keys()]);
  });

  it('frees the slot of a task that throws', async () => {
    const limit = concurrencyLimit(1);
    await expect(limit(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limit(async () => 'next')).resolves.toBe('next');
  });
});
