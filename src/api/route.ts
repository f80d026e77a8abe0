import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { formatZodIssues } from '../errors/zod-issues.ts';
import type { Role } from './auth.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ResponseSpec {
  description: string;
  /** Body schema (JSON). Omitted for bodies that are not JSON (SSE, text). */
  schema?: z.ZodType;
  contentType?: string;
}

export interface HandlerInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  role: Role;
  request: FastifyRequest;
  reply: FastifyReply;
}

/**
 * One API operation: its zod schemas are both what the handler validates against and what the
 * OpenAPI document is generated from, so the two cannot drift apart.
 */
export interface RouteDef<P = any, Q = any, B = any> {
  method: Method;
  /** fastify syntax: `/api/v1/runs/:runId` */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  headers?: Array<{ name: string; description: string }>;
  responses: Record<number, ResponseSpec>;
  /** Served without a token. Routes are protected unless they say this (see access.ts). */
  public?: boolean;
  /** Returns the JSON body (status 200 unless the handler set another), or undefined after writing the reply itself. */
  handler(input: HandlerInput<P, Q, B>): Promise<unknown>;
}

export function defineRoute<P, Q, B>(def: RouteDef<P, Q, B>): RouteDef<P, Q, B> {
  return def;
}

/** 400: the request does not have the shape the route expects (as opposed to 422: well-formed but not acceptable). */
export class BadRequest extends Error {
  constructor(
    message: string,
    readonly issues: string[],
  ) {
    super(message);
  }
}

/**
 * An empty query parameter (`?limit=`, what an HTML form sends for a field left blank) means the
 * parameter was not given: its default applies, instead of "" failing the number or enum check.
 */
function withoutEmpty(query: unknown): unknown {
  if (!query || typeof query !== 'object') return query;
  return Object.fromEntries(Object.entries(query as Record<string, unknown>).filter(([, v]) => v !== ''));
}

function parsePart<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return value as T;
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = formatZodIssues(result.error, where);
    throw new BadRequest(`invalid request ${where}: ${issues.join('; ')}`, issues);
  }
  return result.data;
}

export interface RegisterOptions {
  /** Fails responses that do not match their declared schema with a 500 (tests); otherwise logs and sends them. */
  strictResponses: boolean;
  onResponseMismatch(route: RouteDef, issues: string[]): void;
}

export function registerRoute(app: FastifyInstance, def: RouteDef, options: RegisterOptions): void {
  app.route({
    method: def.method,
    url: def.path,
    config: { public: def.public === true },
    handler: async (request, reply) => {
      const params = parsePart(def.params, request.params, 'path');
      const query = parsePart(def.query, withoutEmpty(request.query), 'query');
      const body = parsePart(def.body, request.body ?? (def.body ? {} : undefined), 'body');
      const role = (request as FastifyRequest & { role?: Role }).role ?? 'read';
      const result = await def.handler({ params, query, body, role, request, reply });
      if (reply.sent || result === undefined) return reply;
      const spec = def.responses[reply.statusCode];
      if (spec?.schema) {
        const checked = spec.schema.safeParse(result);
        if (checked.success) return checked.data;
        const issues = formatZodIssues(checked.error, 'response');
        options.onResponseMismatch(def, issues);
        if (options.strictResponses) {
          reply.code(500);
          return { error: { code: 'INTERNAL', message: `response of ${def.operationId} does not match its schema`, details: { issues } } };
        }
      }
      return result;
    },
  });
}
