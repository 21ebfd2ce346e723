import { afterAll, describe, expect, it } from '@jest/globals';
import type { Request, Response } from 'express';
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { PinoLogger } from '../logging/pino-logger.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { WebhookDeliveryLogMiddleware } from './webhook-delivery-log.middleware.js';
import { deliveryTrace } from './webhook-delivery.js';

describe(WebhookDeliveryLogMiddleware.name, () => {
  const written: string[] = [];
  const metrics = new MetricsService();
  const sut = new WebhookDeliveryLogMiddleware(
    metrics,
    new PinoLogger(pino({ level: 'debug' }, { write: (line: string) => void written.push(line) })),
  );
  afterAll(() => metrics.onModuleDestroy());

  const delivery = (id: string) => {
    const request = { id, ip: '127.0.0.1', socket: {}, headers: {} } as unknown as Request;
    const response = Object.assign(new EventEmitter(), { statusCode: 200, locals: {}, writableFinished: false }) as unknown as Response;
    sut.use(request, response, () => undefined);
    return response;
  };
  const linesOf = (id: string) => written.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.reqId === id);

  it('logs a delivery whose client left before any answer once, as aborted', () => {
    const response = delivery('gone-1');
    response.emit('close');
    response.emit('finish');
    expect(linesOf('gone-1')).toEqual([
      expect.objectContaining({
        level: 40,
        outcome: 'aborted',
        msg: 'Webhook aborted (499): the client closed the connection before the answer',
      }),
    ]);
  });

  it('logs an answered delivery once, with its outcome, when the connection closes after the answer', () => {
    const response = delivery('ok-1');
    Object.assign(deliveryTrace(response), { outcome: 'stored', eventKey: 'video.started:c1' });
    Object.assign(response, { writableFinished: true });
    response.emit('finish');
    response.emit('close');
    expect(linesOf('ok-1')).toEqual([expect.objectContaining({ level: 20, outcome: 'stored', status: 200, msg: 'Webhook stored' })]);
  });
});
