// PUT /_matrix/federation/v1/send/{txnId} (transactions.yaml; server-server-api.md "Transactions").
// Transactions from one origin are handled one at a time, in arrival order, so its PDUs are
// processed in order; a transaction already processed (same origin and txnId: the sender retries
// until it gets a 200) is answered from storage without processing it again.
import type Router from '@koa/router';
import { MatrixError } from '../../http/matrix-error.ts';
import { federationQueueStore as store } from '../../storage/federation-queue-store.ts';
import type { FederationServices } from '../services.ts';
import { processPdus, type PduResults } from '../inbound/pdus.ts';
import { processEdus, type Edu } from '../inbound/edus.ts';

/** server-server-api.md "Transactions": at most 50 PDUs and 100 EDUs. */
const MAX_PDUS = 50;
const MAX_EDUS = 100;
/** How long an answered transaction is remembered: far longer than a sender's backoff cap. */
const REMEMBER_MS = 7 * 86_400_000;

interface Transaction {
  pdus: unknown[];
  edus: Edu[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The body's shape (transaction.yaml); `origin` must be the server that signed the request. */
function parseTransaction(body: unknown, origin: string): Transaction {
  if (!isObject(body)) throw new MatrixError(400, 'M_NOT_JSON', 'The transaction must be a JSON object');
  if (typeof body.origin !== 'string') throw new MatrixError(400, 'M_BAD_JSON', "'origin' is required");
  if (body.origin !== origin) throw new MatrixError(403, 'M_FORBIDDEN', `The transaction's origin ${body.origin} is not the server that signed the request`);
  if (body.origin_server_ts !== undefined && !Number.isInteger(body.origin_server_ts))
    throw new MatrixError(400, 'M_BAD_JSON', "'origin_server_ts' must be an integer");
  if (!Array.isArray(body.pdus)) throw new MatrixError(400, 'M_BAD_JSON', "'pdus' must be an array");
  if (body.edus !== undefined && !Array.isArray(body.edus)) throw new MatrixError(400, 'M_BAD_JSON', "'edus' must be an array");
  const edus = (body.edus ?? []) as unknown[];
  if (body.pdus.length > MAX_PDUS) throw new MatrixError(400, 'M_BAD_JSON', `A transaction may hold at most ${MAX_PDUS} PDUs`);
  if (edus.length > MAX_EDUS) throw new MatrixError(400, 'M_BAD_JSON', `A transaction may hold at most ${MAX_EDUS} EDUs`);
  // An EDU without a type cannot be routed anywhere; it is skipped, not a reason to refuse the rest.
  return { pdus: body.pdus, edus: edus.filter((e): e is Edu => isObject(e) && typeof e.edu_type === 'string') };
}

/** Runs `fn` after everything queued before it under `key` has settled. */
function serialised<T>(chains: Map<string, Promise<void>>, key: string, fn: () => Promise<T>): Promise<T> {
  const run = (chains.get(key) ?? Promise.resolve()).then(fn);
  const tail = run.then(
    () => {},
    () => {},
  );
  chains.set(key, tail);
  void tail.then(() => {
    if (chains.get(key) === tail) chains.delete(key);
  });
  return run;
}

export function transactionRoutes(s: FederationServices) {
  const perOrigin = new Map<string, Promise<void>>();

  async function handle(origin: string, txnId: string, txn: Transaction): Promise<{ pdus: PduResults }> {
    const seen = await store.getInbound(s.db.reader, origin, txnId);
    if (seen) return JSON.parse(seen.response) as { pdus: PduResults };
    // PDUs first: EDUs (receipts, typing) may refer to events of the same transaction.
    const results = await processPdus(s, origin, txn.pdus);
    await processEdus(s, origin, txn.edus);
    const response = { pdus: results };
    const now = Date.now();
    await s.db.write((tx) =>
      store.putInbound(
        tx,
        { origin, txn_id: txnId, response: JSON.stringify(response), pdu_count: txn.pdus.length, edu_count: txn.edus.length, received_ts: now },
        now - REMEMBER_MS,
      ),
    );
    return response;
  }

  return (router: Router): void => {
    router.put('/_matrix/federation/v1/send/:txnId', async (ctx) => {
      const origin = ctx.state.origin!;
      const txnId = ctx.params.txnId!;
      const txn = parseTransaction(ctx.request.json, origin);
      ctx.body = await serialised(perOrigin, origin, () => handle(origin, txnId, txn));
    });
  };
}
