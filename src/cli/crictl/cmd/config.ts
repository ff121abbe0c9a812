import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorMessage, TskubeError } from '../../../common/errors.js';
import { loadYaml } from '../../../common/yaml.js';
import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { formatTable } from '../output.js';
import { defaultConfigPath } from '../settings.js';
import { writeFileAtomic } from '../../../common/atomic-write.js';

type OptionKind = 'string' | 'int' | 'bool';

/** The options of /etc/crictl.yaml, in crictl's order. */
const options: Record<string, OptionKind> = {
  'runtime-endpoint': 'string',
  'image-endpoint': 'string',
  timeout: 'int',
  debug: 'bool',
  'pull-image-on-create': 'bool',
  'disable-pull-on-run': 'bool',
};

const usage = `Usage: tskube crictl config [--get KEY | --set KEY=VALUE[,KEY=VALUE] | --list | KEY VALUE]

Reads and writes the crictl config file (--config, $CRI_CONFIG_FILE, default ${defaultConfigPath}).

Options:
   runtime-endpoint      Container runtime endpoint
   image-endpoint        Image endpoint
   timeout               Timeout of connecting to the server, in seconds (default: 2)
   debug                 Enable debug output (default: false)
   pull-image-on-create  Pull the image on create requests (default: false)
   disable-pull-on-run   Do not pull the image on run requests (default: false)
`;

/** The file to read and write: the one the dispatcher resolved from --config, CRI_CONFIG_FILE or the default. */
export function configPathOf(ctx: CrictlContext): string {
  return ctx.settings.configPath;
}

function checkKey(key: string): OptionKind {
  const kind = options[key];
  if (!kind) throw new TskubeError('invalid-argument', `no configuration option named "${key}" (want one of: ${Object.keys(options).join(', ')})`);
  return kind;
}

/** Go's strconv.ParseBool / Atoi, which is what crictl accepts. */
export function parseOptionValue(key: string, text: string): string | number | boolean {
  switch (checkKey(key)) {
    case 'string':
      return text;
    case 'int':
      if (!/^[+-]?\d+$/.test(text)) throw new TskubeError('invalid-argument', `${key}: invalid value "${text}" (want a whole number of seconds)`);
      return Number(text);
    case 'bool':
      if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
      if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
      throw new TskubeError('invalid-argument', `${key}: invalid value "${text}" (want true or false)`);
  }
}

/** Splits `--set a=1,b=2` (repeatable) into key/value pairs. */
export function parseSetFlags(values: readonly string[]): [string, string][] {
  return values.flatMap((setting) =>
    setting.split(',').map((option): [string, string] => {
      const eq = option.indexOf('=');
      if (eq <= 0) throw new TskubeError('invalid-argument', `--set: incorrectly specified option "${option}" (want KEY=VALUE)`);
      return [option.slice(0, eq), option.slice(eq + 1)];
    }),
  );
}

async function loadDocument(path: string) {
  const { parseDocument, isMap } = await loadYaml();
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new TskubeError('permission-denied', `reading ${path}: ${errorMessage(err)}`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new TskubeError('invalid-argument', `${path}: not valid YAML: ${doc.errors[0]?.message.split('\n')[0]}`);
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new TskubeError('invalid-argument', `${path}: want a mapping of options, got ${JSON.stringify(doc.toJS())}`);
  }
  return doc;
}

function shown(key: string, value: unknown): string {
  if (value === undefined || value === null) return options[key] === 'string' ? '' : options[key] === 'int' ? '0' : 'false';
  return String(value);
}

/** `crictl config`: get, set or list the options of the crictl config file. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    get: { type: 'string' },
    set: { type: 'string', multiple: true },
    list: { type: 'boolean' },
  });
  const path = configPathOf(ctx);
  const doc = await loadDocument(path);
  const current = (key: string): unknown => doc.get(key);

  if (values.get !== undefined) {
    checkKey(values.get);
    ctx.io.stdout.write(`${shown(values.get, current(values.get))}\n`);
    return 0;
  }
  if (values.list) {
    ctx.io.stdout.write(
      formatTable(
        ['KEY', 'VALUE'],
        Object.keys(options).map((k) => [k, shown(k, current(k))]),
      ),
    );
    return 0;
  }
  let updates: [string, string][];
  if (values.set !== undefined) updates = parseSetFlags(values.set);
  else if (positionals.length > 0) {
    // `crictl config KEY VALUE`, the older spelling.
    if (positionals.length > 2) throw new TskubeError('invalid-argument', `config KEY VALUE takes two arguments, got ${positionals.length}`);
    updates = [[positionals[0] as string, positionals[1] ?? '']];
  } else {
    ctx.io.stdout.write(usage);
    return 0;
  }
  // Validate every update before touching the file, so a bad one changes nothing.
  const typed = updates.map(([k, v]) => [k, parseOptionValue(k, v)] as const);
  for (const [k, v] of typed) doc.set(k, v);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, doc.toString(), 0o644);
  return 0;
}
