import { z } from 'zod';
import { ConfigError } from '../errors/conveyor-error.ts';
import { formatZodIssues } from '../errors/zod-issues.ts';

/**
 * Object-store settings. Names are the AWS SDK's own (AWS_REGION, AWS_ENDPOINT_URL_S3, ...), so a
 * machine already set up for the AWS CLI needs nothing new; CONVEYOR_S3_PATH_STYLE is ours, for
 * MinIO-style servers that serve `http://host/bucket/key` rather than `http://bucket.host/key`.
 */
export const OBJECT_STORE_ENV = {
  /** Where artifacts live: `s3://bucket[/prefix]`, or a directory (default `<CONVEYOR_DATA_DIR>/artifacts`). */
  CONVEYOR_ARTIFACTS: z
    .string()
    .refine((value) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || parseS3Uri(value) !== undefined, 'expected s3://bucket[/prefix] or a directory path')
    .optional(),
  AWS_REGION: z.string().optional(),
  AWS_DEFAULT_REGION: z.string().optional(),
  /** Endpoint of an S3-compatible server (MinIO, Ceph RGW, R2, ...); AWS_ENDPOINT_URL applies to every AWS service. */
  AWS_ENDPOINT_URL_S3: z.url({ protocol: /^https?$/ }).optional(),
  AWS_ENDPOINT_URL: z.url({ protocol: /^https?$/ }).optional(),
  CONVEYOR_S3_PATH_STYLE: z.enum(['0', '1', 'true', 'false']).optional(),
  AWS_ACCESS_KEY_ID: z.string().optional(),
  AWS_SECRET_ACCESS_KEY: z.string().optional(),
  AWS_SESSION_TOKEN: z.string().optional(),
} as const;

const objectStoreSchema = z.object(OBJECT_STORE_ENV);

/** Where an S3 client connects. Credentials are not here: see `loadS3Credentials`. */
export type S3Settings = Readonly<{
  region: string;
  /** undefined = AWS itself */
  endpoint: string | undefined;
  forcePathStyle: boolean;
}>;

export type S3Credentials = Readonly<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>;

export type ArtifactLocation = Readonly<{ kind: 'local'; dir: string | undefined } | { kind: 's3'; bucket: string; prefix: string }>;

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing "/" ("" = bucket root). */
  prefix: string;
}

/** `s3://bucket[/prefix]` → bucket + prefix; undefined when it is not one (bucket names per S3's rules). */
export function parseS3Uri(value: string): S3Location | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(value);
  if (!match) return undefined;
  return { bucket: match[1], prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

function parseObjectStoreEnv(env: NodeJS.ProcessEnv): z.output<typeof objectStoreSchema> {
  const raw: Record<string, string> = {};
  for (const name of Object.keys(OBJECT_STORE_ENV)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  const parsed = objectStoreSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = formatZodIssues(parsed.error);
    throw new ConfigError(`invalid configuration: ${issues.join('; ')}`, issues);
  }
  return parsed.data;
}

/** The S3 client settings from the environment (also used by steps that read `s3://` data). */
export function loadS3Settings(env: NodeJS.ProcessEnv = process.env): S3Settings {
  const e = parseObjectStoreEnv(env);
  return Object.freeze({
    region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? 'us-east-1',
    endpoint: e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL,
    forcePathStyle: e.CONVEYOR_S3_PATH_STYLE === '1' || e.CONVEYOR_S3_PATH_STYLE === 'true',
  });
}

/**
 * Static credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), or undefined
 * to let the SDK find them (shared profile, instance role, web identity). Kept out of Config so that
 * printing a config never prints them; workers mask these values in logs, errors and outputs.
 */
export function loadS3Credentials(env: NodeJS.ProcessEnv = process.env): S3Credentials | undefined {
  const e = parseObjectStoreEnv(env);
  if (!e.AWS_ACCESS_KEY_ID && !e.AWS_SECRET_ACCESS_KEY) return undefined;
  if (!e.AWS_ACCESS_KEY_ID || !e.AWS_SECRET_ACCESS_KEY) {
    const missing = e.AWS_ACCESS_KEY_ID ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID';
    throw new ConfigError(`invalid configuration: ${missing} is not set but its pair is; set both, or neither to use a profile or role`);
  }
  return Object.freeze({ accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY, ...(e.AWS_SESSION_TOKEN ? { sessionToken: e.AWS_SESSION_TOKEN } : {}) });
}

/** The secret values among the object-store settings, for the workers' log/output masking. */
export function objectStoreSecretValues(env: NodeJS.ProcessEnv = process.env): string[] {
  const credentials = loadS3Credentials(env);
  return credentials ? [credentials.secretAccessKey, credentials.sessionToken ?? ''].filter(Boolean) : [];
}

/** CONVEYOR_ARTIFACTS → the artifact store to use (local directory by default). */
export function artifactLocation(value: string | undefined): ArtifactLocation {
  const s3 = value ? parseS3Uri(value) : undefined;
  return Object.freeze(s3 ? { kind: 's3', ...s3 } : { kind: 'local', dir: value });
}
