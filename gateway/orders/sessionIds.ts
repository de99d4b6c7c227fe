/**
 * Session ids stamped on commands (u32, echoed in every event header the command causes, and kept
 * by each order as its own session): the REST API is one session; WebSocket sessions take ids from
 * FIRST_WS_SESSION_ID up. 0 means "no session" (pipeline-internal commands such as ADD_SYMBOL).
 * Thread-safety: constants.
 */

/** Every REST command carries this session id. */
export const REST_SESSION_ID = 1;
/** The first id a WebSocket session may take. */
export const FIRST_WS_SESSION_ID = 2;
