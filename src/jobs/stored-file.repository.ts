import { Injectable } from '@nestjs/common';
import { InjectMagicHourDataSource } from '../database/magic-hour-data-source.js';
import type { DataSource, EntityManager } from 'typeorm';

/** One output the download handler stored on disk (`stored_files`). */
export interface StoredFile {
  /** Magic Hour's project id: the job's id. */
  jobId: string;
  /** The download URL as the payload gave it; with `jobId`, the file's identity. */
  url: string;
  /** Where the file is on disk (absolute). */
  path: string;
  bytes: number;
  /** Lowercase hex SHA-256 of the file's bytes. */
  sha256: string;
  storedAt: Date;
}

/** What `record` is told about a file just stored. */
export type NewStoredFile = Omit<StoredFile, 'storedAt'>;

interface StoredFileRow {
  job_id: string;
  url: string;
  path: string;
  // `bigint` comes back from pg as a string (it may exceed 2^53); outputs stay far below that.
  bytes: string;
  sha256: string;
  stored_at: Date;
}

const COLUMNS = 'job_id, url, path, bytes, sha256, stored_at';

const toStoredFile = (row: StoredFileRow): StoredFile => ({
  jobId: row.job_id,
  url: row.url,
  path: row.path,
  bytes: Number(row.bytes),
  sha256: row.sha256,
  storedAt: row.stored_at,
});

/** The first key of the transaction locks on stored files' paths (the second is the path's hash). */
const STORED_FILE_LOCK_CLASS = 73_519_022;

/**
 * Locks these paths until the transaction of `manager` ends: storing a file and removing one by
 * retention each hold their path's lock from the file system change to the row's. Taken in hash order,
 * so that two lockers of several paths cannot deadlock.
 */
export async function lockStoredFilePaths(manager: EntityManager, paths: readonly string[]): Promise<void> {
  await manager.query(
    `SELECT pg_advisory_xact_lock($1, h) FROM (SELECT DISTINCT hashtext(p) AS h FROM unnest($2::text[]) AS p ORDER BY h) AS locks`,
    [STORED_FILE_LOCK_CLASS, paths],
  );
}

/**
 * The files the download handler stored, one row per job and URL. Raw SQL over the shared
 * `DataSource`; constructible without Nest (`new StoredFileRepository(dataSource)`).
 */
@Injectable()
export class StoredFileRepository {
  constructor(@InjectMagicHourDataSource() private readonly dataSource: DataSource) {}

  /** The stored file for this job and URL, or `null` if it was never stored. */
  async find(jobId: string, url: string): Promise<StoredFile | null> {
    const rows: StoredFileRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM stored_files WHERE job_id = $1 AND url = $2`, [
      jobId,
      url,
    ]);
    return rows.length > 0 ? toStoredFile(rows[0]) : null;
  }

  /**
   * Records a stored file. A second store of the same job and URL (the file was lost from disk and
   * fetched again, or two runs raced) replaces the row, so it always describes the file on disk now.
   *
   * `place` (the rename that puts the file at `file.path`) runs first, in the same transaction and
   * under the path's lock, which retention takes too while it removes files: retention then never
   * removes a file that is being put in place before its row says so.
   */
  async record(file: NewStoredFile, place?: () => Promise<void>): Promise<StoredFile> {
    return await this.dataSource.transaction(async (manager) => {
      await lockStoredFilePaths(manager, [file.path]);
      await place?.();
      const rows: StoredFileRow[] = await manager.query(
        `INSERT INTO stored_files (job_id, url, path, bytes, sha256)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (job_id, url) DO UPDATE
           SET path = EXCLUDED.path, bytes = EXCLUDED.bytes, sha256 = EXCLUDED.sha256, stored_at = now()
         RETURNING ${COLUMNS}`,
        [file.jobId, file.url, file.path, file.bytes, file.sha256],
      );
      return toStoredFile(rows[0]);
    });
  }

  /** The stored files of these jobs, grouped by job, oldest first within a job. */
  async listFor(jobIds: readonly string[], manager: EntityManager = this.dataSource.manager): Promise<StoredFile[]> {
    if (jobIds.length === 0) return [];
    const rows: StoredFileRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM stored_files WHERE job_id = ANY($1::text[]) ORDER BY job_id, stored_at, url`,
      [jobIds],
    );
    return rows.map(toStoredFile);
  }
}
