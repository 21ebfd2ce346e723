import type { JobDownload } from '../database/entities/job.entity.js';

/**
 * Fresh download URLs of a job, read from Magic Hour's API and stored on the job. Provided under
 * `DOWNLOAD_URL_REFRESHER` by the service itself; `available` is false while reconciliation with the
 * API is off (no `MAGIC_HOUR_API_KEY`).
 */
export interface DownloadUrlRefresher {
  readonly available: boolean;
  /** The job's current downloads from the API, stored on the job; throws when the API cannot give them now. */
  refresh(jobId: string): Promise<JobDownload[]>;
}

/** Injection token of the `DownloadUrlRefresher`. */
export const DOWNLOAD_URL_REFRESHER = Symbol('DOWNLOAD_URL_REFRESHER');
