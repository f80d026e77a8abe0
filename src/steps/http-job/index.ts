export { httpJob, type HttpJobContext, type HttpJobOptions, type HttpJobResult, type HttpRequestSpec } from './http-job.ts';
