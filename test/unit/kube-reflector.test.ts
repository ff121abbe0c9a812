// The reflector loop over a scripted ListerWatcher: the decisions are unit-tested in
// kube-reflector-plan.test.ts; this checks the loop carries them out.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { TskubeError } from '../../src/common/errors.js';
import type { ListerWatcher, ListOptions, ListResult, WatchEvent, WatchOptions } from '../../src/kube/list-watch.js';
import type { KubeObject } from '../../src/kube/object-meta.js';
import { Reflector } from '../../src/kube/reflector.js';

const obj = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });
type Script = { lists: (ListResult<KubeObject> | Error)[]; watches: (WatchEvent<KubeObject>[] | Error)[] };

class Scripted implements ListerWatcher<KubeObject> {
  readonly listCalls: ListOptions[] = [];
  readonly watchCalls: WatchOptions[] = [];
  readonly #script: Script;
  readonly #done: () => void;
  constructor(script: Script, done: () => void) {
    this.#script = script;
    this.#done = done;
  }
  async list(opts: ListOptions): Promise<ListResult<KubeObject>> {
    this.listCalls.push(opts);
    const next = this.#script.lists.shift();
    if (!next) throw new Error('no more lists');
    if (next instanceof Error) throw next;
    return next;
  }
  async *watch(opts: WatchOptions, signal: AbortSignal): AsyncGenerator<WatchEvent<KubeObject>> {
    this.watchCalls.push(opts);
    const next = this.#script.watches.shift();
    if (!next) {
      this.#done();
      await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
      return;
    }
    if (next instanceof Error) throw next;
    yield* next;
    // Stay open a little, so this counts as a healthy watch the server then closed.
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function runScript(script: Script, handlerThrows = false) {
  const lines: string[] = [];
  const seen: string[] = [];
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const lw = new Scripted(script, () => finish());
  const reflector = new Reflector<KubeObject>({
    name: 'test',
    listerWatcher: lw,
    logger: pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l).msg as string) }),
    random: () => 0,
    backoff: { initialMs: 1, maxMs: 4, factor: 2, jitter: 0 },
    handler: {
      onAdd: (o) => {
        seen.push(`add ${o.metadata?.name}`);
        if (handlerThrows) throw new Error('boom');
      },
      onUpdate: (_o, n) => seen.push(`update ${n.metadata?.name}`),
      onDelete: (o) => seen.push(`delete ${o.metadata?.name}`),
    },
  });
  const stop = new AbortController();
  const running = reflector.run(stop.signal);
  await finished;
  stop.abort();
  await running;
  return { lw, seen, lines, reflector };
}

describe('reflector loop', () => {
  it('resumes each watch from the last event or bookmark', async () => {
    const { lw, seen, reflector } = await runScript({
      lists: [{ items: [obj('a', '1')], resourceVersion: '10' }],
      watches: [
        [
          { type: 'ADDED', object: obj('b', '11') },
          { type: 'BOOKMARK', resourceVersion: '15' },
        ],
        [
          { type: 'MODIFIED', object: obj('a', '16') },
          { type: 'DELETED', object: obj('b', '17') },
        ],
      ],
    });
    expect(lw.listCalls).toEqual([{ resourceVersion: '0' }]);
    expect(lw.watchCalls.map((w) => w.resourceVersion)).toEqual(['10', '15', '17']);
    expect(lw.watchCalls[0]).toMatchObject({ allowWatchBookmarks: true });
    expect(seen).toEqual(['add a', 'add b', 'update a', 'delete b']);
    expect(reflector.store.keys()).toEqual(['ns/a']);
  });

  it('relists with a consistent read after a 410 ERROR event, synthesizing deletes', async () => {
    const { lw, seen } = await runScript({
      lists: [
        { items: [obj('a', '1'), obj('b', '2')], resourceVersion: '10' },
        { items: [obj('b', '2'), obj('c', '30')], resourceVersion: '30' },
      ],
      watches: [[{ type: 'ERROR', status: { code: 410, reason: 'Expired', message: 'too old resource version' } }]],
    });
    expect(lw.listCalls).toEqual([{ resourceVersion: '0' }, { resourceVersion: '' }]);
    expect(lw.watchCalls.map((w) => w.resourceVersion)).toEqual(['10', '30']);
    expect(seen).toEqual(['add a', 'add b', 'add c', 'delete a']);
  });

  it('backs off on failures, logs failing and recovered once per outage, and retries the watch from the same rv', async () => {
    const down = () => new TskubeError('unavailable', 'connect ECONNREFUSED');
    const { lw, lines } = await runScript({
      lists: [down(), down(), { items: [], resourceVersion: '5' }],
      watches: [down(), down(), [{ type: 'ADDED', object: obj('a', '6') }]],
    });
    expect(lw.listCalls).toHaveLength(3);
    expect(lw.watchCalls.map((w) => w.resourceVersion)).toEqual(['5', '5', '5', '6']);
    expect(lines.filter((l) => l.includes('failing'))).toHaveLength(2);
    expect(lines.filter((l) => l.includes('recovered'))).toHaveLength(2);
  });

  it('keeps going when a handler throws', async () => {
    const { seen, lines } = await runScript(
      { lists: [{ items: [obj('a', '1')], resourceVersion: '1' }], watches: [[{ type: 'ADDED', object: obj('b', '2') }]] },
      true,
    );
    expect(seen).toEqual(['add a', 'add b']);
    expect(lines.filter((l) => l === 'reflector handler threw')).toHaveLength(2);
  });
});
