import 'reflect-metadata';
import { Logger } from '@nestjs/common';

// Tests assert on what the service does, not on its logs; only errors are worth seeing in a run.
Logger.overrideLogger(['error']);
