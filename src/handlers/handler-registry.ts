import { Inject, Injectable, Logger, OnModuleInit, Optional, type Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { JOB_EVENT_ACTIONS, JOB_EVENT_TYPES, MEDIA } from '../magic-hour/magic-hour-event.types.js';
import type { EventPattern, MagicHourEventHandler } from './magic-hour-event.js';
import { DECLARED_HANDLER_CLASSES, MAGIC_HOUR_HANDLER } from './on-magic-hour-event.decorator.js';

/** A handler found at start. */
export interface RegisteredHandler {
  /** `ClassName.method`. */
  name: string;
  patterns: readonly EventPattern[];
  invoke: MagicHourEventHandler;
}

/** Handler classes this service ships that are off by configuration, so not providers on purpose. */
export const DISABLED_HANDLER_CLASSES = Symbol('DISABLED_HANDLER_CLASSES');

const VALID_PATTERNS = new Set<string>([
  '*',
  ...JOB_EVENT_TYPES,
  ...MEDIA.map((media) => `${media}.*`),
  ...JOB_EVENT_ACTIONS.map((action) => `*.${action}`),
]);

/** Whether `pattern` selects events of `type`. */
export function patternMatches(pattern: EventPattern, type: string): boolean {
  return (
    pattern === '*' ||
    pattern === type ||
    (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1))) ||
    (pattern.startsWith('*.') && type.endsWith(pattern.slice(1)))
  );
}

/**
 * Finds every `@OnMagicHourEvent` method at start with Nest's `DiscoveryService`, refuses a start that
 * would silently never run one (an unknown type, a handler on a controller, a request-scoped
 * provider, a class that is not a provider at all) and logs which handlers each type runs.
 */
@Injectable()
export class MagicHourHandlerRegistry implements OnModuleInit {
  private readonly logger = new Logger('MagicHourHandlers');
  private readonly handlers: RegisteredHandler[] = [];
  private readonly byType = new Map<string, RegisteredHandler[]>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Optional() @Inject(DISABLED_HANDLER_CLASSES) private readonly disabled: readonly Type[] = [],
  ) {}

  onModuleInit(): void {
    const found = new Set<object>();
    const controllers = new Set(this.discovery.getControllers().map((wrapper) => wrapper.metatype));
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance: unknown = wrapper.instance;
      const { metatype } = wrapper;
      if (!instance || typeof instance !== 'object' || typeof metatype !== 'function') continue;
      for (const method of this.scanner.getAllMethodNames(Reflect.getPrototypeOf(instance))) {
        const fn = (instance as Record<string, unknown>)[method];
        if (typeof fn !== 'function') continue;
        const patterns = this.reflector.get<EventPattern[] | undefined>(MAGIC_HOUR_HANDLER, fn);
        if (!patterns) continue;
        const name = `${metatype.name}.${method}`;
        if (controllers.has(metatype)) {
          throw new Error(`@OnMagicHourEvent on ${name}: handlers must be providers, not controllers`);
        }
        if (!wrapper.isDependencyTreeStatic()) {
          throw new Error(`@OnMagicHourEvent on ${name}: handlers must be singleton providers, not request-scoped`);
        }
        const unknown = patterns.filter((pattern) => !VALID_PATTERNS.has(pattern));
        if (unknown.length > 0 || patterns.length === 0) {
          throw new Error(
            `@OnMagicHourEvent on ${name}: unknown event type ${unknown.map((p) => JSON.stringify(p)).join(', ') || '(none given)'}; ` +
              `use one of ${[...VALID_PATTERNS].join(', ')}`,
          );
        }
        if (this.handlers.some((handler) => handler.name === name)) continue;
        found.add(metatype);
        this.handlers.push({ name, patterns, invoke: (fn as MagicHourEventHandler).bind(instance) });
      }
    }
    for (const declared of DECLARED_HANDLER_CLASSES) {
      if (!found.has(declared) && !this.disabled.includes(declared)) {
        throw new Error(
          `${declared.name} declares @OnMagicHourEvent handlers but is not a provider of any module: ` +
            `add it to the providers of a module (in this service, of HandlersModule in src/handlers/handlers.module.ts)`,
        );
      }
    }
    for (const type of JOB_EVENT_TYPES) {
      const handlers = this.handlers.filter((handler) => handler.patterns.some((pattern) => patternMatches(pattern, type)));
      this.byType.set(type, handlers);
      if (handlers.length > 0) this.logger.log(`${type} -> ${handlers.map((handler) => handler.name).join(', ')}`);
    }
    if (this.handlers.length === 0) this.logger.log('No event handlers registered');
  }

  /** The handlers that run for events of `type`, in registration order. */
  handlersFor(type: string): readonly RegisteredHandler[] {
    return this.byType.get(type) ?? [];
  }

  /** A handler by name, or `undefined`. */
  byName(name: string): RegisteredHandler | undefined {
    return this.handlers.find((handler) => handler.name === name);
  }
}
