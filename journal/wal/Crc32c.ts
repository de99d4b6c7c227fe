/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, as iSCSI, ext4 and LevelDB use), computed
 * over a byte range in place: slicing-by-8 tables (8 KiB, built once at module load), no allocation
 * per call, so the journal can checksum records straight out of its write buffer.
 *
 * Why our own: the npm choices either need a native add-on with a prebuilt download
 * (`@node-rs/crc32`, `fast-crc32c`'s fast path) or take a whole `Uint8Array` per call with three
 * transitive packages (`@aws-crypto/crc32c`), which would cost a subarray allocation per record;
 * `node:zlib` has only CRC-32 (not -C), and only from Node 22. Check values: "123456789" -> 0xE3069283
 * (test/journal/walFormat.test.ts).
 *
 * Usage: `crc32c(bytes, offset, length)`; to continue a running checksum pass the previous result as
 * `seed` (`crc32c(b, 8, 8, crc32c(b, 0, 8))` equals `crc32c(b, 0, 16)`).
 * Thread-safety: pure functions over module-level constant tables; any thread.
 */

const TABLES = buildTables();

function buildTables(): Uint32Array {
  const t = new Uint32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    let c = t[i];
    for (let s = 1; s < 8; s++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[s * 256 + i] = c >>> 0;
    }
  }
  return t;
}

/** CRC-32C of `bytes[offset, offset + length)`, continuing from `seed` (0 to start). Unsigned. */
export function crc32c(bytes: Uint8Array, offset: number, length: number, seed = 0): number {
  const t = TABLES;
  let crc = ~seed;
  let i = offset;
  const end = offset + length;
  const end8 = end - 7;
  while (i < end8) {
    const a = (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) ^ crc;
    crc =
      t[1792 + (a & 0xff)] ^
      t[1536 + ((a >>> 8) & 0xff)] ^
      t[1280 + ((a >>> 16) & 0xff)] ^
      t[1024 + (a >>> 24)] ^
      t[768 + bytes[i + 4]] ^
      t[512 + bytes[i + 5]] ^
      t[256 + bytes[i + 6]] ^
      t[bytes[i + 7]];
    i += 8;
  }
  while (i < end) crc = t[(crc ^ bytes[i++]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}
