import { main } from './main.ts';

// Entry point: `conveyor ...` (bin/conveyor.js loads this through tsx).
await main(process.argv);
