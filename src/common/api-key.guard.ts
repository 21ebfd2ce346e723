import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The configured API keys, held as SHA-256 digests and compared in constant time, so that neither a
 * key's content nor its length leaks through timing.
 */
export class ApiKeys {
  private readonly keys: readonly Buffer[];

  constructor(keys: readonly string[]) {
    this.keys = keys.map(digest);
  }

  /** Whether any key is configured (with none, the API is open). */
  get configured(): boolean {
    return this.keys.length > 0;
  }

  /**
   * Which configured key an `Authorization` header carries, by its position in `API_KEYS`;
   * `undefined` when the header is missing or not `Bearer <key>`, `null` when the key is not one of them.
   */
  match(authorization: string | undefined): number | null | undefined {
    const bearer = BEARER.exec(authorization ?? '');
    if (!bearer) return undefined;
    const presented = digest(bearer[1]);
    let found: number | null = null;
    // Every key is compared, so the time taken does not tell which one matched.
    this.keys.forEach((key, index) => {
      if (timingSafeEqual(key, presented) && found === null) found = index;
    });
    return found;
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
