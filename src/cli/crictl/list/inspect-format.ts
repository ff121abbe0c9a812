import { TskubeError } from '../../../common/errors.js';
import { parseOutputFormat, type OutputFormat } from '../output.js';

/** -o of inspect, inspectp, inspecti, imagefsinfo: JSON unless asked otherwise. */
export function parseInspectFormat(value: string | undefined, template: string | undefined): OutputFormat {
  if (value === 'go-template' || template !== undefined) {
    throw new TskubeError('unimplemented', '-o go-template / --template are not supported; use -o json and a JSON tool such as jq');
  }
  return parseOutputFormat(value, ['json', 'yaml', 'table']);
}
