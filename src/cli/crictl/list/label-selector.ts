import { TskubeError } from '../../../common/errors.js';

/** Parses repeated `--label key=value` flags into a selector; names the bad one. */
export function parseLabelSelector(values: readonly string[] | undefined, flag = '--label'): Record<string, string> {
  const selector: Record<string, string> = {};
  for (const text of values ?? []) {
    const parts = text.split('=');
    if (parts.length !== 2 || parts[0] === '') throw new TskubeError('invalid-argument', `${flag}: incorrectly specified label "${text}" (want key=value)`);
    selector[parts[0] as string] = parts[1] as string;
  }
  return selector;
}

/** Whether every key=value of the selector is among the labels (an empty selector matches all). */
export function matchesLabels(labels: Readonly<Record<string, string>>, selector: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
