import { Injectable, Logger } from '@nestjs/common';
import { OnMagicHourEvent, type JobResponse, type MagicHourEvent } from 'magic-hour-webhooks';

/** The app's own handler: found by the module in this module of the app, run in the worker after the job was updated. */
@Injectable()
export class FinishedVideos {
  private readonly logger = new Logger(FinishedVideos.name);
  private readonly finished: string[] = [];

  @OnMagicHourEvent('video.completed')
  record(event: MagicHourEvent, job: JobResponse): void {
    this.logger.log(`Video ${job.id} is ${job.status} (event ${event.type})`);
    this.finished.push(job.id);
  }

  /** The jobs finished since the app started. */
  list(): string[] {
    return [...this.finished];
  }
}
