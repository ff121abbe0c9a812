import { errorMessage, TskubeError } from '../../../common/errors.js';

/**
 * A --name / --namespace filter: a regular expression searched anywhere in the value,
 * as crictl does with Go's regexp.MatchString. An empty pattern matches everything.
 */
export function compilePattern(pattern: string | undefined, flag: string): RegExp | undefined {
  if (pattern === undefined || pattern === '') return undefined;
  try {
    return new RegExp(pattern);
  } catch (err) {
    throw new TskubeError('invalid-argument', `${flag}: invalid regular expression "${pattern}": ${errorMessage(err)}`);
  }
}

export function matchesPattern(re: RegExp | undefined, value: string): boolean {
  return re === undefined || re.test(value);
}
