import { ConveyorError } from '../errors/conveyor-error.ts';
import type { S3Settings } from '../config/object-store.ts';
import { describeEndpoint } from './s3-client.ts';

/** The object store refused or could not be reached; `reason` says which, the message what to check. */
export class ObjectStoreError extends ConveyorError {
  readonly reason: 'bucket-missing' | 'access-denied' | 'unreachable' | 'failed';
  constructor(reason: ObjectStoreError['reason'], message: string, details: Record<string, unknown>, cause: unknown) {
    super(reason === 'unreachable' || reason === 'failed' ? 'INTERNAL' : 'CONFIG', message, { ...details, reason }, { cause });
    this.reason = reason;
  }
}

const ACCESS_DENIED = new Set(['AccessDenied', 'Forbidden', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'AllAccessDisabled']);
const NETWORK = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Whether an SDK error says "no such object" (GetObject's NoSuchKey, HeadObject's bodiless 404). */
export function isMissingObject(error: unknown): boolean {
  const e = error as SdkError;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound';
}

/**
 * Turns an SDK error into one line that names the URI, what happened and what to check. Credentials
 * never appear: the SDK's messages do not carry them and the endpoint is shown without user info.
 */
export function objectStoreError(error: unknown, uri: string, settings: S3Settings, bucket: string): ConveyorError {
  if (error instanceof ConveyorError) return error;
  const e = error as SdkError;
  // A bodiless answer (HEAD) leaves the SDK only the status: it names such errors "Unknown".
  const name = e?.name && e.name !== 'Unknown' ? e.name : '';
  const code = e?.code ?? (error as { cause?: { code?: string } })?.cause?.code ?? '';
  const status = e?.$metadata?.httpStatusCode;
  const endpoint = describeEndpoint(settings);
  const details = { uri, bucket, endpoint, sdkError: name || code };
  if (name === 'NoSuchBucket') {
    return new ObjectStoreError('bucket-missing', `${uri}: bucket "${bucket}" does not exist at ${endpoint}; create it, or fix the bucket name (CONVEYOR_ARTIFACTS / the URI) and the endpoint (AWS_ENDPOINT_URL_S3)`, details, error);
  }
  if (ACCESS_DENIED.has(name) || status === 403) {
    return new ObjectStoreError(
      'access-denied',
      `${uri}: access denied by ${endpoint} (${name || `HTTP ${status}`}); check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the role) and that its policy allows s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket on bucket "${bucket}"`,
      details,
      error,
    );
  }
  if (NETWORK.has(code) || NETWORK.has(name) || name === 'TimeoutError') {
    return new ObjectStoreError('unreachable', `${uri}: object store endpoint ${endpoint} unreachable (${code || name}); check AWS_ENDPOINT_URL_S3, that the server is up, and the network between them`, details, error);
  }
  return new ObjectStoreError('failed', `${uri}: object store request to ${endpoint} failed: ${name || code || 'error'}${e?.message ? `: ${e.message}` : ''}`, details, error);
}
