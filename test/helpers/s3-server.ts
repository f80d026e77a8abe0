import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { S3Credentials, S3Settings } from '../../src/config/object-store.ts';
import { createS3Connection, type S3Connection } from '../../src/storage/s3-client.ts';
import { ROOT } from '../fixtures/procs.ts';

/** s3rver's fixed key pair (it checks signatures against it, so wrong keys are refused for real). */
export const S3RVER_CREDENTIALS: S3Credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface TestS3 {
  endpoint: string;
  dir: string;
  settings: S3Settings;
  /** The environment a Conveyor process needs to use this server (path style, endpoint, keys). */
  env: Record<string, string>;
  connection(credentials?: S3Credentials): S3Connection;
  createBucket(name: string): Promise<void>;
  /** Stops the server process (SIGTERM), keeping its data dir. */
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

/** Starts s3rver in a child process on a free port with a private data dir. */
export async function startTestS3(): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-s3-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/fixtures/s3-server-main.ts'), dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const port = await new Promise<number>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`s3rver did not start within 30 s: ${err}`)), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"ready"'));
      if (line) {
        clearTimeout(timer);
        res((JSON.parse(line) as { port: number }).port);
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      rej(new Error(`s3rver exited at start: ${err}`));
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const settings: S3Settings = { region: 'us-east-1', endpoint, forcePathStyle: true };
  const connection = (credentials: S3Credentials = S3RVER_CREDENTIALS) => createS3Connection(settings, credentials);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return {
    endpoint,
    dir,
    settings,
    env: { AWS_ENDPOINT_URL_S3: endpoint, AWS_REGION: 'us-east-1', CONVEYOR_S3_PATH_STYLE: '1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
    connection,
    async createBucket(name) {
      await connection().client.send(new CreateBucketCommand({ Bucket: name }));
    },
    stop,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
