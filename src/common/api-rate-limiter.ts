import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { isIPv6 } from 'node:net';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';

/** The window `API_RATE_LIMIT` is counted over. */
export const API_RATE_LIMIT_WINDOW_MS = 60_000;
/** Most clients tracked at once; past it the longest-tracked is forgotten (its budget starts full again). */
const MAX_TRACKED = 100_000;

/** What one request costs a client's budget. */
export interface RateVerdict {
  allowed: boolean;
  /** Requests left right now. */
  remaining: number;
  /** When refused: seconds until one more request is allowed. */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * One token bucket per client, in memory (so per process): a client may send `limit` requests at
 * once, and gets them back continuously over a minute. Buckets that have filled up again are swept.
 */
@Injectable()
export class ApiRateLimiter implements OnModuleDestroy {
  /** Requests a client may send at once, and per minute. */
  readonly limit: number;
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.limit = config.apiRateLimit;
    this.perMs = this.limit / API_RATE_LIMIT_WINDOW_MS;
    this.sweeper = setInterval(() => this.sweep(Date.now()), API_RATE_LIMIT_WINDOW_MS).unref();
  }

  /** Takes one request from `client`'s budget. */
  take(client: string, now = Date.now()): RateVerdict {
    let bucket = this.buckets.get(client);
    if (bucket === undefined) {
      if (this.buckets.size >= MAX_TRACKED) this.makeRoom(now);
      bucket = { tokens: this.limit, at: now };
      this.buckets.set(client, bucket);
    } else {
      bucket.tokens = Math.min(this.limit, bucket.tokens + (now - bucket.at) * this.perMs);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, remaining: Math.floor(bucket.tokens), retryAfterSeconds: 0 };
    }
    return { allowed: false, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000)) };
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  /** Forgets clients whose budget is full again: they are as if never seen. */
  private sweep(now: number): void {
    for (const [client, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.at) * this.perMs >= this.limit) this.buckets.delete(client);
    }
  }

  private makeRoom(now: number): void {
    this.sweep(now);
    if (this.buckets.size >= MAX_TRACKED) this.buckets.delete(this.buckets.keys().next().value!);
  }
}

/** An address as a rate limit counts it: IPv4 as is, IPv6 by its /64 (one host usually holds a whole one). */
export function addressClient(ip: string | undefined): string {
  if (ip === undefined || ip === '') return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1];
  if (!isIPv6(ip)) return ip;
  const [head, tail = ''] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}
