export { validateDag, findCycle, specHash, type ValidatedDag } from './dag.ts';
export { renderDag, type GraphFormat } from './render.ts';
