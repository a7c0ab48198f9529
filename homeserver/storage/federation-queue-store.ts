// Tables: federation_outbox, federation_destinations, federation_inbound_txns (migration 009).
// The outbound queue per destination with the transaction in flight and the retry state, and the
// inbound transactions already processed, so that a retried one is answered without reprocessing.
import type { Queryable, SqlValue } from './sqlite.ts';

export type QueueKind = 'pdu' | 'edu';

export interface QueueEntry {
  destination: string;
  kind: QueueKind;
  /** The PDU, or the EDU as `{ edu_type, content }`, as JSON text. */
  json: string;
}

/** A transaction being sent: its rows keep their place until it is answered. */
export interface OutboxTxn {
  txnId: string;
  originServerTs: number;
  /** JSON texts in queue order. */
  pdus: string[];
  edus: string[];
}

export interface RetryState {
  failures: number;
  retryIntervalMs: number;
  nextAttemptTs: number;
}

export interface TxnLimits {
  maxPdus: number;
  maxEdus: number;
  /** Bytes of JSON a transaction may carry; its first item goes in whatever its size. */
  maxBytes: number;
}

export interface InboundTxnRow {
  origin: string;
  txn_id: string;
  response: string;
  pdu_count: number;
  edu_count: number;
  received_ts: number;
}

/** Rows per INSERT statement: each statement is one hop to SQLite's thread. */
const INSERT_CHUNK = 200;

export const federationQueueStore = {
  async enqueue(q: Queryable, entries: QueueEntry[], now: number): Promise<void> {
    for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
      const chunk = entries.slice(i, i + INSERT_CHUNK);
      const params: SqlValue[] = chunk.flatMap((e) => [e.destination, e.kind, e.json, now]);
      await q.run(`INSERT INTO federation_outbox (destination, kind, json, queued_ts) VALUES ${chunk.map(() => '(?, ?, ?, ?)').join(', ')}`, ...params);
    }
  },

  /** Destinations with anything queued: what a restart must resume. */
  async destinationsWithQueue(q: Queryable): Promise<string[]> {
    const rows = await q.all<{ destination: string }>('SELECT DISTINCT destination FROM federation_outbox');
    return rows.map((r) => r.destination);
  },

  async queuedCount(q: Queryable, destination: string): Promise<number> {
    const r = await q.get<{ n: number }>('SELECT COUNT(*) AS n FROM federation_outbox WHERE destination = ?', destination);
    return r?.n ?? 0;
  },

  /** The transaction already assembled for `destination` and not yet answered, if any. */
  async pendingTxn(q: Queryable, destination: string): Promise<OutboxTxn | undefined> {
    const d = await q.get<{ txn_id: string | null; txn_ts: number | null }>(
      'SELECT txn_id, txn_ts FROM federation_destinations WHERE destination = ?',
      destination,
    );
    if (!d?.txn_id) return undefined;
    const rows = await q.all<{ kind: QueueKind; json: string }>(
      'SELECT kind, json FROM federation_outbox WHERE destination = ? AND txn_id = ? ORDER BY id',
      destination,
      d.txn_id,
    );
    return {
      txnId: d.txn_id,
      originServerTs: d.txn_ts ?? 0,
      pdus: rows.filter((r) => r.kind === 'pdu').map((r) => r.json),
      edus: rows.filter((r) => r.kind === 'edu').map((r) => r.json),
    };
  },

  /**
   * Takes the oldest unsent rows of `destination` into a new transaction `txnId` (at most
   * `maxPdus` PDUs and `maxEdus` EDUs, stopping before the first row that would pass `maxBytes`,
   * so that queue order holds). Undefined when nothing waits.
   */
  async assembleTxn(q: Queryable, destination: string, txnId: string, now: number, limits: TxnLimits): Promise<OutboxTxn | undefined> {
    const pick = (kind: QueueKind, limit: number) =>
      q.all<{ id: number; kind: QueueKind; json: string }>(
        'SELECT id, kind, json FROM federation_outbox WHERE destination = ? AND kind = ? AND txn_id IS NULL ORDER BY id LIMIT ?',
        destination,
        kind,
        limit,
      );
    const candidates = [...(await pick('pdu', limits.maxPdus)), ...(await pick('edu', limits.maxEdus))].sort((a, b) => a.id - b.id);
    if (candidates.length === 0) return undefined;
    const taken: typeof candidates = [];
    let bytes = 0;
    for (const c of candidates) {
      const size = Buffer.byteLength(c.json, 'utf8') + 1;
      if (taken.length > 0 && bytes + size > limits.maxBytes) break;
      taken.push(c);
      bytes += size;
    }
    for (let i = 0; i < taken.length; i += INSERT_CHUNK) {
      const ids = taken.slice(i, i + INSERT_CHUNK).map((t) => t.id);
      await q.run(`UPDATE federation_outbox SET txn_id = ? WHERE id IN (${ids.map(() => '?').join(', ')})`, txnId, ...ids);
    }
    await q.run(
      `INSERT INTO federation_destinations (destination, txn_id, txn_ts) VALUES (?, ?, ?)
       ON CONFLICT (destination) DO UPDATE SET txn_id = excluded.txn_id, txn_ts = excluded.txn_ts`,
      destination,
      txnId,
      now,
    );
    return {
      txnId,
      originServerTs: now,
      pdus: taken.filter((t) => t.kind === 'pdu').map((t) => t.json),
      edus: taken.filter((t) => t.kind === 'edu').map((t) => t.json),
    };
  },

  /** The transaction was answered (or refused for good): its rows go, and the retry state with them. */
  async finishTxn(q: Queryable, destination: string, txnId: string): Promise<void> {
    await q.run('DELETE FROM federation_outbox WHERE destination = ? AND txn_id = ?', destination, txnId);
    await q.run('DELETE FROM federation_destinations WHERE destination = ?', destination);
  },

  async getRetry(q: Queryable, destination: string): Promise<RetryState | undefined> {
    const r = await q.get<{ failures: number; retry_interval_ms: number; next_attempt_ts: number }>(
      'SELECT failures, retry_interval_ms, next_attempt_ts FROM federation_destinations WHERE destination = ? AND failures > 0',
      destination,
    );
    return r ? { failures: r.failures, retryIntervalMs: r.retry_interval_ms, nextAttemptTs: r.next_attempt_ts } : undefined;
  },

  async setRetry(q: Queryable, destination: string, r: RetryState): Promise<void> {
    await q.run(
      `INSERT INTO federation_destinations (destination, failures, retry_interval_ms, next_attempt_ts) VALUES (?, ?, ?, ?)
       ON CONFLICT (destination) DO UPDATE SET failures = excluded.failures, retry_interval_ms = excluded.retry_interval_ms, next_attempt_ts = excluded.next_attempt_ts`,
      destination,
      r.failures,
      r.retryIntervalMs,
      r.nextAttemptTs,
    );
  },

  getInbound(q: Queryable, origin: string, txnId: string): Promise<InboundTxnRow | undefined> {
    return q.get<InboundTxnRow>('SELECT * FROM federation_inbound_txns WHERE origin = ? AND txn_id = ?', origin, txnId);
  },

  inboundFrom(q: Queryable, origin: string): Promise<InboundTxnRow[]> {
    return q.all<InboundTxnRow>('SELECT * FROM federation_inbound_txns WHERE origin = ? ORDER BY received_ts, txn_id', origin);
  },

  /** Records a processed transaction and forgets those received before `pruneBefore`. */
  async putInbound(q: Queryable, r: InboundTxnRow, pruneBefore: number): Promise<void> {
    await q.run(
      `INSERT INTO federation_inbound_txns (origin, txn_id, response, pdu_count, edu_count, received_ts) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (origin, txn_id) DO NOTHING`,
      r.origin,
      r.txn_id,
      r.response,
      r.pdu_count,
      r.edu_count,
      r.received_ts,
    );
    await q.run('DELETE FROM federation_inbound_txns WHERE received_ts < ?', pruneBefore);
  },
};
