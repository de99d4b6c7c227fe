/**
 * Batched reports (docs/protocol.md, "Batched reports"): a session opened with `?batch_reports=1`
 * gets every gateway message as one or more frames, each preceded by its length (u32 little-endian),
 * back to back. `splitPrefixed` walks one such message.
 * Thread-safety: a pure function (the callback runs synchronously, on the caller's thread).
 */
import { readU32 } from '../../schema/codec/wire.js';

/**
 * Calls `each(frameStart, frameEnd)` for every length-prefixed frame of `bytes[start, end)`, in order.
 * Returns false, after the frames before it, if a length runs past the end (a malformed message).
 */
export function splitPrefixed(
  bytes: Uint8Array,
  start: number,
  end: number,
  each: (frameStart: number, frameEnd: number) => void,
): boolean {
  let p = start;
  while (p < end) {
    if (end - p < 4) return false;
    const len = readU32(bytes, p);
    const s = p + 4;
    if (len > end - s) return false;
    each(s, s + len);
    p = s + len;
  }
  return true;
}
