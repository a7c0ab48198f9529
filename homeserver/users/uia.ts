// User-interactive authentication (client-server-api "User-Interactive Authentication API").
// A request that needs UIA is answered 401 with the flows and a session; the client completes
// stages one by one, and the request goes through once one flow's stages are all complete.
import { randomBytes } from 'node:crypto';
import { MatrixError } from '../http/matrix-error.ts';
import type { Database } from '../storage/database.ts';
import { accountsStore } from '../storage/accounts-store.ts';

export interface UiaFlow {
  stages: string[];
}

/** A 401 whose body is the UIA state; errcode only when a stage failed. */
export class UiaRequired extends MatrixError {
  private readonly body: Record<string, unknown>;
  constructor(body: Record<string, unknown>, errcode?: string, message?: string) {
    super(401, errcode ?? 'M_UNAUTHORIZED', message ?? 'Additional authentication required');
    this.body = errcode ? { errcode, error: message, ...body } : body;
  }
  override toBody(): Record<string, unknown> {
    return this.body;
  }
}

/** Checks one stage's auth dict; throws a MatrixError (e.g. M_FORBIDDEN) when it fails. */
export type StageChecker = (stage: string, auth: Record<string, unknown>) => Promise<void>;

export interface UiaRequest {
  auth: unknown;
  flows: UiaFlow[];
  params?: Record<string, unknown>;
  /** Identifies the operation, so a session completed for one request cannot authorise another. */
  fingerprint: string;
  checkStage: StageChecker;
}

/**
 * How long a UIA session lives: Synapse's AuthHandler.SESSION_EXPIRE_MS. Every request without
 * `auth` (an unauthenticated POST /register) starts one, so they must not be kept for ever.
 */
export const UIA_SESSION_LIFETIME_MS = 48 * 60 * 60 * 1000;
/**
 * Sessions kept at most: a household starts a handful a day. Beyond (a flood of /register
 * requests), the oldest go first; their clients start over with a new session.
 */
export const MAX_UIA_SESSIONS = 10_000;
/** Sessions are pruned when one is stored, at most this often: the deletion scans the table. */
const PRUNE_INTERVAL_MS = 10_000;

export class UiaSessions {
  private readonly db: Database;
  private readonly maxSessions: number;
  /** Stores between two prunes at most; a prune leaves room for them under maxSessions. */
  private readonly pruneEvery: number;
  private lastPrune = 0;
  private storedSincePrune = 0;
  constructor(db: Database, maxSessions = MAX_UIA_SESSIONS) {
    this.db = db;
    this.maxSessions = maxSessions;
    this.pruneEvery = Math.max(1, Math.floor(maxSessions / 10));
  }

  /** Stores a session's stages, pruning expired and surplus sessions now and then in the same write job. */
  private async store(session: string, completed: string[], fingerprint: string): Promise<void> {
    const now = Date.now();
    // Prune on time, or sooner when a burst could pass the cap before the next scheduled prune.
    this.storedSincePrune++;
    const prune = now - this.lastPrune >= PRUNE_INTERVAL_MS || this.storedSincePrune >= this.pruneEvery;
    if (prune) {
      this.lastPrune = now;
      this.storedSincePrune = 0;
    }
    await this.db.write(async (tx) => {
      // Keep room for the stores until the next prune (pruneEvery at most), so the count never passes maxSessions.
      if (prune) await accountsStore.pruneUiaSessions(tx, now - UIA_SESSION_LIFETIME_MS, this.maxSessions - this.pruneEvery);
      await accountsStore.putUiaSession(tx, session, completed, fingerprint);
    });
  }

  /** A stored session, unless it has expired (pruning runs only now and then). */
  private async session(sessionId: string) {
    const row = await accountsStore.getUiaSession(this.db.reader, sessionId);
    return row && row.created_ts >= Date.now() - UIA_SESSION_LIFETIME_MS ? row : undefined;
  }

  /**
   * Completes one stage of an existing session out of band (the fallback web page): the client
   * then resubmits its request with just the session id (client-server-api "Fallback").
   */
  async completeStage(sessionId: string, stage: string, check: () => Promise<void>): Promise<'done' | 'unknown-session'> {
    const row = await this.session(sessionId);
    if (!row) return 'unknown-session';
    await check();
    const completed = JSON.parse(row.completed) as string[];
    if (!completed.includes(stage)) completed.push(stage);
    await this.db.write((tx) => accountsStore.putUiaSession(tx, sessionId, completed, row.request_fingerprint));
    return 'done';
  }

  /** The operation a session was started for (its fingerprint names the user for account operations). */
  async fingerprintOf(sessionId: string): Promise<string | undefined> {
    return (await this.session(sessionId))?.request_fingerprint;
  }

  /** Returns the completed stages once a flow is complete; otherwise throws UiaRequired. */
  async require(req: UiaRequest): Promise<string[]> {
    const params = req.params ?? {};
    const auth = req.auth && typeof req.auth === 'object' ? (req.auth as Record<string, unknown>) : undefined;
    if (!auth) {
      const session = randomBytes(16).toString('base64url');
      await this.store(session, [], req.fingerprint);
      throw new UiaRequired({ flows: req.flows, params, session });
    }
    let session = typeof auth.session === 'string' ? auth.session : undefined;
    let completed: string[] = [];
    if (session) {
      const row = await this.session(session);
      if (!row) throw new MatrixError(400, 'M_UNKNOWN', 'Unknown UIA session');
      if (row.request_fingerprint !== req.fingerprint) {
        throw new MatrixError(403, 'M_FORBIDDEN', 'UIA session was started for a different request');
      }
      completed = JSON.parse(row.completed) as string[];
    } else {
      session = randomBytes(16).toString('base64url');
    }
    const stage = typeof auth.type === 'string' ? auth.type : undefined;
    if (stage) {
      const allowed = req.flows.some((f) => f.stages.includes(stage));
      if (!allowed) {
        throw new UiaRequired({ flows: req.flows, params, session, completed }, 'M_UNRECOGNIZED', `Stage ${stage} is not in any flow`);
      }
      try {
        await req.checkStage(stage, auth);
      } catch (err) {
        // A rate limit is not a failed stage: it keeps its 429 and retry_after_ms.
        if (err instanceof MatrixError && err.status !== 429) {
          await this.store(session!, completed, req.fingerprint);
          throw new UiaRequired({ flows: req.flows, params, session, completed }, err.errcode, err.message);
        }
        throw err;
      }
      if (!completed.includes(stage)) completed = [...completed, stage];
    }
    const done = req.flows.some((f) => f.stages.every((s) => completed.includes(s)));
    if (done) {
      await this.db.write((tx) => accountsStore.deleteUiaSession(tx, session!));
      return completed;
    }
    await this.store(session!, completed, req.fingerprint);
    throw new UiaRequired({ flows: req.flows, params, session, completed });
  }
}
