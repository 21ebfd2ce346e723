import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The configured API keys, and the one way to check a presented key against them: compared as
 * SHA-256 digests in constant time, over every key, so neither a key's content, its length nor which
 * key matched leaks through timing. Shared by the REST guard, the rate limit and the console's login.
 */
export class ApiKeys {
  private readonly digests: readonly Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  /** Whether any key is configured; with none (refused in production) the API is open. */
  get configured(): boolean {
    return this.digests.length > 0;
  }

  /** The position in `API_KEYS` of the key `presented` is, or -1. */
  indexOf(presented: string): number {
    const candidate = digest(presented);
    let found = -1;
    this.digests.forEach((key, index) => {
      if (timingSafeEqual(key, candidate) && found < 0) found = index;
    });
    return found;
  }

  /**
   * Which configured key an `Authorization` header carries, by its position in `API_KEYS`;
   * `undefined` when the header is missing or not `Bearer <key>`, `null` when the key is not one of them.
   */
  match(authorization: string | undefined): number | null | undefined {
    const presented = ApiKeys.fromBearer(authorization);
    if (presented === null) return undefined;
    const index = this.indexOf(presented);
    return index < 0 ? null : index;
  }

  /** The key in an `Authorization: Bearer <key>` header, or `null` when the header is not that. */
  static fromBearer(header: string | undefined): string | null {
    return BEARER.exec(header ?? '')?.[1] ?? null;
  }
}

/**
 * Lets a REST request through when it carries `Authorization: Bearer <key>` with one of `API_KEYS`.
 * With no key configured (refused in production) the API is open. The key is never logged or echoed.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: ApiKeys;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.keys = new ApiKeys(config.apiKeys);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.keys.configured) return true;
    const matched = this.keys.match(context.switchToHttp().getRequest<Request>().headers.authorization);
    if (matched === undefined) throw new UnauthorizedException('Missing API key: send Authorization: Bearer <key>');
    if (matched === null) throw new UnauthorizedException('Invalid API key');
    return true;
  }
}
