/**
 * A request value quoted in an error message: its JSON, cut to MAX_SHOWN characters (a 16 KiB body or
 * a long URL is not sent back), or a stand-in when JSON.stringify throws (a value nested thousands
 * deep, which JSON.parse accepts, overflows its recursion: that was a 500).
 * Thread-safety: pure.
 */

/** Longest echo of a bad value in an error message. */
export const MAX_SHOWN = 80;

export function show(v: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(v);
  } catch {
    return Array.isArray(v) ? '[...]' : '{...}';
  }
  if (json === undefined) return String(v);
  return json.length > MAX_SHOWN ? `${json.slice(0, MAX_SHOWN)}... (${json.length} characters)` : json;
}
