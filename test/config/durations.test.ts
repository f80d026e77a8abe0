import test from 'ava';
import { loadConfig } from '../../src/config/load.ts';
import { parseDuration } from '../../src/core/duration.ts';

test('a duration of plain 0 means off, as README documents for CONVEYOR_PIPELINE_IMPORT_TIMEOUT=0', (t) => {
  t.is(parseDuration('0'), 0);
  t.is(loadConfig({ CONVEYOR_PIPELINE_IMPORT_TIMEOUT: '0' }, {}).pipelineImportTimeoutMs, 0);
  // Every other number still needs its unit: "5" is ambiguous (seconds? milliseconds?).
  t.is(parseDuration('5'), undefined);
  t.is(parseDuration('1.5s'), 1500);
});
