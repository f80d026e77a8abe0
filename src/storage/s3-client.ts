import { S3Client } from '@aws-sdk/client-s3';
import { loadS3Credentials, loadS3Settings, type S3Credentials, type S3Settings } from '../config/object-store.ts';

/** How many times the SDK tries a request that failed transiently (network, 5xx, throttling), with backoff. */
export const S3_MAX_ATTEMPTS = 5;

export interface S3Connection {
  client: S3Client;
  settings: S3Settings;
}

/**
 * An S3 client for the given settings. Retries are the SDK's standard mode (exponential backoff with
 * jitter over S3_MAX_ATTEMPTS attempts). Request checksums are computed only where S3 requires them:
 * Conveyor verifies its own sha256 end to end, and several S3-compatible servers reject the SDK's
 * newer default trailing checksums.
 */
export function createS3Connection(settings: S3Settings, credentials?: S3Credentials): S3Connection {
  const client = new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle,
    // A copy: the SDK tags the object it is given, and ours is frozen.
    ...(credentials ? { credentials: { ...credentials } } : {}),
    maxAttempts: S3_MAX_ATTEMPTS,
    retryMode: 'standard',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // A dead endpoint fails each attempt in seconds instead of hanging on the OS connect timeout.
    requestHandler: { connectionTimeout: 5_000 },
  });
  return { client, settings };
}

let shared: S3Connection | undefined;

/**
 * The process's S3 connection, built from the environment on first use: steps that read `s3://` data
 * or deploy to an `s3` target use it, so credentials never travel through step options or Redis.
 */
export function sharedS3Connection(): S3Connection {
  shared ??= createS3Connection(loadS3Settings(), loadS3Credentials());
  return shared;
}

/** The endpoint as shown in messages: never with user info or a query string. */
export function describeEndpoint(settings: S3Settings): string {
  if (!settings.endpoint) return `AWS S3 (region ${settings.region})`;
  const url = new URL(settings.endpoint);
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}
