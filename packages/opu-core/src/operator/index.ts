export { GaussianOperator } from './gaussian.js';
export {
  CostTally,
  type IntensityFeatures,
  type LinearProjection,
  type OperatorCost,
  type OperatorResult,
} from './operator.js';
