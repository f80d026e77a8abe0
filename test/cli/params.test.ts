import test from 'ava';
import { z } from 'zod';
import { unknownParamNames } from '../../src/cli/commands/params.ts';

const shape = { n: z.number().int().min(1) };

test('unknown params are named for an object schema, also behind .default(), .optional(), .transform(), .readonly()', (t) => {
  const schemas = [z.object(shape), z.object(shape).default({ n: 1 }), z.object(shape).optional(), z.object(shape).transform((p) => p), z.object(shape).readonly(), z.object(shape).refine(() => true)];
  for (const schema of schemas) t.deepEqual(unknownParamNames(schema, { n: 2, m: 3 }), { unknown: ['m'], known: ['n'] }, schema.def.type);
});

test('a schema that allows extra keys (loose, catchall) or no schema names none', (t) => {
  for (const schema of [z.looseObject(shape), z.object(shape).catchall(z.string()), z.object(shape).passthrough().default({ n: 1 }), undefined]) {
    t.deepEqual(unknownParamNames(schema, { n: 2, m: 3 }).unknown, []);
  }
});
