import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Lets a REST request through when it carries `Authorization: Bearer <key>` with one of `API_KEYS`.
 * Keys are compared as SHA-256 digests in constant time, so neither a key's content nor its length
 * leaks through timing. With no key configured (refused in production) the API is open.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: readonly Buffer[];

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.keys = config.apiKeys.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.keys.length === 0) return true;
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new UnauthorizedException('Missing API key: send Authorization: Bearer <key>');
    const presented = digest(match[1]);
    let valid = false;
    for (const key of this.keys) valid = timingSafeEqual(key, presented) || valid;
    if (!valid) throw new UnauthorizedException('Invalid API key');
    return true;
  }
}
