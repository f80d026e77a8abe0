/**
 * The file a pipeline was defined in, read from the call stack of `definePipeline`. A step with
 * `isolation: 'process'` runs in a child process that imports this file again to find its handler
 * (code cannot be sent to another process). Undefined when the stack names no file.
 */
export function callerFile(): string | undefined {
  const stack = new Error().stack?.split('\n').slice(1) ?? [];
  for (const frame of stack) {
    const match = /(?:\(|at )((?:file:\/\/)?\/[^():]+?\.[cm]?[jt]sx?):\d+:\d+\)?$/.exec(frame.trim());
    if (!match) continue;
    const file = match[1].replace(/^file:\/\//, '');
    if (/[\\/]src[\\/]dsl[\\/]/.test(file) || /[\\/]dist[\\/]dsl[\\/]/.test(file)) continue;
    return decodeURIComponent(file);
  }
  return undefined;
}
