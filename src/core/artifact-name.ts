/**
 * Names of run artifacts (reports, plots): a file name, never a path. Letters, digits, ".", "_", "-",
 * starting with a letter or digit, so "..", "/", "\\" and absolute paths cannot be spelled at all.
 */
export const ARTIFACT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$/;

/** Why `name` is not an artifact name, or undefined when it is one. */
export function artifactNameProblem(name: string): string | undefined {
  if (!ARTIFACT_NAME_PATTERN.test(name)) {
    return `expected an artifact file name (letters, digits, ".", "_", "-", starting with a letter or digit, at most 120 characters; no "/"), found ${JSON.stringify(name.slice(0, 130))}`;
  }
  if (name.includes('..')) return `expected an artifact file name without "..", found ${JSON.stringify(name)}`;
  return undefined;
}

/** Content type of an artifact from its name when the step did not say: text types are viewable in the UI. */
export function artifactContentType(name: string): string {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  const known: Record<string, string> = {
    md: 'text/markdown; charset=utf-8', txt: 'text/plain; charset=utf-8', log: 'text/plain; charset=utf-8',
    csv: 'text/csv; charset=utf-8', json: 'application/json', html: 'text/html; charset=utf-8', png: 'image/png', svg: 'image/svg+xml',
  };
  return known[ext] ?? 'application/octet-stream';
}

/**
 * A content type a step may give its artifact: `type/subtype` with optional `; name=value`
 * parameters, printable ASCII only and at most 200 characters — it becomes a response header, where
 * a control character or a huge value would make the artifact unreadable (or, elsewhere, inject).
 */
const CONTENT_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[\x20-\x21\x23-\x7e]*"|[A-Za-z0-9!#$&^_.+-]+))*$/;

/** Why `type` is not a usable content type, or undefined when it is one. */
export function contentTypeProblem(type: string): string | undefined {
  if (type.length <= 200 && CONTENT_TYPE_PATTERN.test(type)) return undefined;
  return `expected a content type like "text/markdown; charset=utf-8" (printable ASCII, at most 200 characters), found ${JSON.stringify(type.slice(0, 80))}${type.length > 80 ? '…' : ''}`;
}
