-- 001_journal: the PostgreSQL journal of orders (current state) and trades (fills, both sides).
--
-- Written only by journal/pg/PgWriter.ts, read by journal/pg/History.ts. Every number the engine
-- produces is an integer (ticks, lots, ids, microseconds) and is stored as bigint, never float.
-- Idempotency: trades are keyed by trade_id (ON CONFLICT DO NOTHING); an order row is changed only
-- by an event with a higher seq than its last_event_seq; journal_progress moves in the same
-- transaction as the rows, so "persisted" always equals "committed".

-- One row per accepted order, kept at its latest state (rejected commands create no order).
CREATE TABLE orders (
  order_id        bigint   PRIMARY KEY,          -- shardId * 2^40 + counter (engine/records/OrderId.ts)
  shard_id        integer  NOT NULL,
  account_id      bigint   NOT NULL,
  symbol_id       integer  NOT NULL,
  client_order_id bigint   NOT NULL,             -- 0 = not set
  session_id      bigint   NOT NULL,
  side            smallint NOT NULL,             -- engine/records/OrderCodes.ts Side
  order_type      smallint NOT NULL,             -- OrderType
  time_in_force   smallint NOT NULL,             -- TimeInForce
  flags           smallint NOT NULL,             -- OrderFlags
  stp_mode        smallint NOT NULL,             -- StpMode
  price           bigint   NOT NULL,             -- ticks; 0 = market
  stop_price      bigint   NOT NULL,             -- ticks; 0 = none
  quantity        bigint   NOT NULL,             -- lots, total including filled
  filled_qty      bigint   NOT NULL,             -- lots
  leaves_qty      bigint   NOT NULL,             -- lots still open
  display_qty     bigint   NOT NULL,             -- lots; 0 = not an iceberg
  expire_time     bigint   NOT NULL,             -- engine microseconds; 0 = none
  notional        numeric  NOT NULL,             -- sum of fill price x quantity (ticks x lots)
  fill_count      integer  NOT NULL,
  last_price      bigint   NOT NULL,             -- ticks of the latest fill; 0 = none
  last_qty        bigint   NOT NULL,             -- lots of the latest fill; 0 = none
  status          smallint NOT NULL,             -- gateway/orders/OrderVocabulary.ts OrderStatus
  reason          integer  NOT NULL,             -- engine/ResultCodes.ts Reason of Canceled/Expired; 0 otherwise
  triggered       boolean  NOT NULL,
  created_at      bigint   NOT NULL,             -- engine microseconds since the epoch
  updated_at      bigint   NOT NULL,
  last_event_seq  bigint   NOT NULL              -- per-shard event seq of the latest event applied
);

-- Order history (closed orders of an account, newest first): Filled 3, Canceled 4, Expired 5.
CREATE INDEX orders_closed_by_account ON orders (account_id, updated_at DESC, order_id DESC)
  WHERE status IN (3, 4, 5);

-- One row per trade (a FILL event): both sides in the same row.
CREATE TABLE trades (
  trade_id              bigint   PRIMARY KEY,    -- shardId * 2^40 + counter
  shard_id              integer  NOT NULL,
  seq                   bigint   NOT NULL,       -- per-shard event seq of the FILL
  symbol_id             integer  NOT NULL,
  ts                    bigint   NOT NULL,       -- engine microseconds since the epoch
  price                 bigint   NOT NULL,       -- ticks (the maker's price)
  quantity              bigint   NOT NULL,       -- lots
  taker_side            smallint NOT NULL,
  maker_order_id        bigint   NOT NULL,
  maker_client_order_id bigint   NOT NULL,
  maker_account_id      bigint   NOT NULL,
  maker_session_id      bigint   NOT NULL,
  maker_leaves_qty      bigint   NOT NULL,       -- after the fill
  taker_order_id        bigint   NOT NULL,
  taker_client_order_id bigint   NOT NULL,
  taker_account_id      bigint   NOT NULL,
  taker_session_id      bigint   NOT NULL,
  taker_leaves_qty      bigint   NOT NULL        -- after the fill
);

CREATE INDEX trades_by_maker_account ON trades (maker_account_id, ts DESC, trade_id DESC);
CREATE INDEX trades_by_taker_account ON trades (taker_account_id, ts DESC, trade_id DESC);
CREATE INDEX trades_by_maker_order ON trades (maker_order_id);
CREATE INDEX trades_by_taker_order ON trades (taker_order_id);

-- Per shard: everything up to these sequence numbers is in the tables above.
CREATE TABLE journal_progress (
  shard_id   integer     PRIMARY KEY,
  cmd_seq    bigint      NOT NULL,   -- last WAL command whose events are all persisted
  event_seq  bigint      NOT NULL,   -- last event persisted
  updated_at timestamptz NOT NULL DEFAULT now()
);
