// Part of `npm run build`: tsc compiles src/**/*.ts to dist/; the files the code reads at run time
// (Lua scripts, the web UI) are copied next to the compiled modules that read them.
import { cpSync } from 'node:fs';

for (const dir of ['redis/lua', 'api/ui']) {
  cpSync(new URL(`../src/${dir}/`, import.meta.url), new URL(`../dist/${dir}/`, import.meta.url), {
    recursive: true,
    filter: (path) => !path.endsWith('.ts'),
  });
}
