export {
  classificationMetrics,
  regressionMetrics,
  binaryRocAuc,
  flattenMetrics,
  type Label,
  type ProbabilityRow,
  type ClassificationInput,
  type ClassMetrics,
  type ClassificationMetrics,
  type RegressionMetrics,
} from './metrics.ts';
export {
  evaluateGates,
  type Threshold,
  type ChallengerSpec,
  type GateSpec,
  type GateResult,
  type GateOutcome,
} from './gates.ts';
