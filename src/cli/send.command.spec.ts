import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { verifySignature } from '../magic-hour/webhook-signature.js';
import type { CliIo } from './cli-options.js';
import { main } from './main.js';

/** `mh send ... --dry-run --json` in-process: the request it would make. */
async function dryRun(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  const io: CliIo = {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: () => true },
    stdin: Readable.from([]),
    env,
  };
  expect(await main(['send', ...args, '--dry-run', '--json'], io)).toBe(0);
  return JSON.parse(stdout) as { url: string; headers: Record<string, string>; body: { type: string; payload: Record<string, unknown> } };
}

describe('mh send --dry-run', () => {
  it('builds a request for the URL and secret from the environment, signed over the body as sent', async () => {
    const request = await dryRun(['audio.errored', '--id', 'cdryrun1'], {
      MH_WEBHOOK_URL: 'https://hooks.example.com/magic-hour',
      MH_WEBHOOK_SECRET: 'whsec_env',
    });
    expect(request.url).toBe('https://hooks.example.com/magic-hour');
    expect(request.body).toMatchObject({ type: 'audio.errored', payload: { id: 'cdryrun1', status: 'error', downloads: [] } });
    expect(request.body.payload.error).toEqual({ code: expect.any(String), message: expect.any(String) });
    const verdict = verifySignature({
      secrets: ['whsec_env'],
      toleranceSeconds: 300,
      signature: request.headers['magic-hour-event-signature'],
      timestamp: request.headers['magic-hour-event-timestamp'],
      body: Buffer.from(JSON.stringify(request.body)),
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    expect(verdict).toBeNull();
  });

  it('describes the same project in every event sent with one --id', async () => {
    const started = await dryRun(['video.started', '--id', 'cdryrun2']);
    const completed = await dryRun(['video.completed', '--id', 'cdryrun2']);
    const fixed = ({ type, name, width, height, fps, end_seconds }: Record<string, unknown>) => ({
      type,
      name,
      width,
      height,
      fps,
      end_seconds,
    });
    expect(fixed(completed.body.payload)).toEqual(fixed(started.body.payload));
    expect(completed.body.payload.downloads).toEqual([{ url: expect.stringContaining('cdryrun2'), expires_at: expect.any(String) }]);
    const other = await Promise.all(['cdryrun3', 'cdryrun4', 'cdryrun5', 'cdryrun6'].map((id) => dryRun(['video.started', '--id', id])));
    expect(new Set([started, ...other].map((request) => JSON.stringify(fixed(request.body.payload)))).size).toBeGreaterThan(1);
  });
});
