import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Guards `GET /metrics` with `Authorization: Bearer <METRICS_TOKEN>` when `METRICS_TOKEN` is set
 * (compared as SHA-256 digests in constant time); open otherwise. A token of its own, not an API key,
 * so that the scraper cannot read events or replay them.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly token: Buffer | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.token = config.metricsToken === null ? null : digest(config.metricsToken);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.token === null) return true;
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]), this.token)) {
      throw new UnauthorizedException('Send Authorization: Bearer <METRICS_TOKEN>');
    }
    return true;
  }
}
