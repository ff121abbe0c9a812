// One read shared by every caller that asks while another read is running: they all get
// the next read, which starts after the running one ends, so each sees a result taken
// after it asked (a mount it made just before is in the table) and at most two reads
// are ever in flight. The kubelet's volume setup reads /proc/self/mountinfo for every
// volume; 60 volumes starting at once made 60 concurrent reads of a table that grows with
// the pods, and the garbage grew the heap (docs/memory.md).

export function freshRead<T>(read: () => Promise<T>): () => Promise<T> {
  let running: Promise<unknown> | undefined;
  let next: Promise<T> | undefined;
  const start = (): Promise<T> => {
    const p = read();
    running = p;
    const clear = () => {
      if (running === p) running = undefined;
    };
    p.then(clear, clear);
    return p;
  };
  return () => {
    if (!running) return start();
    if (!next) {
      const queued = running
        .then(
          () => undefined,
          () => undefined,
        )
        .then(() => {
          next = undefined;
          return start();
        });
      next = queued;
    }
    return next;
  };
}
