// The jobs every deployment has: word count, inverted index, linear regression.
import { JobRegistry } from '../job-definition'
import { invertedIndex } from './inverted-index'
import { linearRegression } from './linear-regression'
import { wordCount } from './word-count'

export { invertedIndex } from './inverted-index'
export {
  type LinearRegressionModel,
  type LinearRegressionParams,
  linearRegression,
  parseRow,
} from './linear-regression'
export { forEachWord, wordCount } from './word-count'

export function builtinJobs(): JobRegistry {
  return new JobRegistry().register(wordCount).register(invertedIndex).register(linearRegression)
}
