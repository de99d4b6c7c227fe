// Protocol-wide constants of exchange v1 that the schema itself cannot state as constants.
// Imported by the codec, the verifier, the gateway and the client SDK. Immutable.

import { FILE_IDENTIFIER } from '../generated/layout.js';

export { FILE_IDENTIFIER };

/** schema_version: SchemaVersion.V1, also the default of Logon/LogonAck.protocol_version. */
export const SCHEMA_VERSION = 1;

/** Most items one Batch may carry (verifier reason BATCH_TOO_LARGE beyond). */
export const MAX_BATCH_ITEMS = 256;

/** Body values below this travel client -> gateway, from it upwards gateway -> client (Heartbeat: both). */
export const FIRST_GATEWAY_BODY = 32;
