// The process entry of the `tskube` command (bundled to dist/tskube.js).
import { enableCompileCache } from 'node:module';
import { TskubeError } from '../common/errors.js';
import { processIo } from './io.js';

// Cache V8 code for the chunks loaded after this line: later starts skip compiling them.
enableCompileCache();
const { main } = await import('./main.js');

const controller = new AbortController();
process.once('SIGINT', () => controller.abort(new TskubeError('canceled', 'interrupted')));
process.once('SIGTERM', () => controller.abort(new TskubeError('canceled', 'terminated')));
process.exitCode = await main(process.argv.slice(2), processIo(controller.signal));
