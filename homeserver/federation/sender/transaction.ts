// The wire form of an outbound transaction (server-server-api.md "Transactions",
// transactions.yaml) and its id, unique per sending server across restarts.
import { randomBytes } from 'node:crypto';
import type { OutboxTxn } from '../../storage/federation-queue-store.ts';

/** At most 50 PDUs and 100 EDUs per transaction (server-server-api.md "Transactions"). */
export const MAX_PDUS_PER_TXN = 50;
export const MAX_EDUS_PER_TXN = 100;
/**
 * JSON bytes of PDUs and EDUs per transaction. Receivers cap request bodies (Hearth at 1 MiB), and
 * 50 PDUs may each be up to 64 KiB, so a transaction stops short of that; a single larger item
 * still goes alone.
 */
export const MAX_TXN_BYTES = 768 * 1024;

export function newTxnId(now: number): string {
  return `${now.toString(36)}${randomBytes(6).toString('base64url')}`;
}

export function sendPath(txnId: string): string {
  return '/_matrix/federation/v1/send/' + encodeURIComponent(txnId);
}

export interface TransactionBody {
  origin: string;
  origin_server_ts: number;
  pdus: unknown[];
  edus?: unknown[];
}

export function transactionBody(origin: string, txn: OutboxTxn): TransactionBody {
  const body: TransactionBody = { origin, origin_server_ts: txn.originServerTs, pdus: txn.pdus.map((j) => JSON.parse(j) as unknown) };
  if (txn.edus.length > 0) body.edus = txn.edus.map((j) => JSON.parse(j) as unknown);
  return body;
}
