import 'reflect-metadata';
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import * as nestCommon from '@nestjs/common';
import * as nestCore from '@nestjs/core';

// `@nestjs/throttler` is CommonJS and require()s NestJS 12, which is ESM only. Node (20.19+) serves such
// a require() with the ES module itself; Jest can do so only from Node 24.9, so on older Node its
// require() is answered here with the same module instances the tests import, as Node would.
jest.mock('@nestjs/common', () => nestCommon);
jest.mock('@nestjs/core', () => nestCore);

// Tests assert on what the service does, not on its logs; only errors are worth seeing in a run.
Logger.overrideLogger(['error']);
