/**
 * Ring record types of the runtime's rings (the ring's header `type`, an int32 >= 1).
 *
 *   command ring (gateway -> shard):  COMMAND_RECORD, payload = one 96-byte command record
 *                                     STOP_RECORD, empty payload: "drain what is before me and exit"
 *   event ring (shard -> gateway):    EVENT_RECORD, payload = 1..64 consecutive 128-byte event records
 *                                     (a run of one shard's events in seq order, RingEventSink)
 *
 * The record type is fixed at claim time, before the engine writes the event, so it is not the event
 * type (that is byte 0 of the payload). A journal following the command ring skips STOP_RECORD.
 * Thread-safety: constants.
 */
export const COMMAND_RECORD = 1;
export const STOP_RECORD = 2;
export const EVENT_RECORD = 1;
