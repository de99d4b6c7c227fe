/**
 * Where the matching engine writes its events.
 *
 * The engine asks for one EVENT_SIZE-byte slot at a time with `claim()`, writes the whole record at
 * the returned offset of `view` (re-reading `view` after every claim, so a sink may hand out slots in
 * different buffers), and calls `commit()` exactly once at the end of every `process()` call, after
 * the command's last event (also when the command produced none). A ring-backed sink publishes the
 * claimed slots on `commit()` so a consumer never sees a half-processed command; `EventBuffer` is the
 * growable in-memory sink used by tests and replay.
 *
 * Note: the engine cannot stop half-way through a command, so `claim()` must always succeed; a
 * bounded sink waits (or spills) inside `claim()` rather than refuse.
 * Thread-safety: called only from the engine's thread.
 */
export interface EventSink {
  /** The buffer holding the slot returned by the latest `claim()`. */
  readonly view: DataView;
  /** Reserves the next event slot and returns its byte offset in `view`. */
  claim(): number;
  /** Publishes every slot claimed since the previous `commit()`. */
  commit(): void;
}
