import type { ZodError } from 'zod';

/** Formats zod issues as "path: message" lines, the shape every Conveyor validation message uses. */
export function formatZodIssues(error: ZodError, root = ''): string[] {
  return error.issues.map((issue) => {
    const path = [root, ...issue.path.map(String)].filter(Boolean).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
}
