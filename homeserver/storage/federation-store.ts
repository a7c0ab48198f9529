// Tables: server_keys, server_key_documents, federation_pinned_certs. What we learnt about other
// servers: their signing keys (and the signed documents that carried them) and pinned certificates.
import type { Queryable } from './sqlite.ts';

export interface ServerKeyRow {
  server_name: string;
  key_id: string;
  /** Unpadded base64 Ed25519 public key. */
  public_key: string;
  valid_until_ts: number;
  expired_ts: number | null;
  fetched_ts: number;
}

export interface PinnedCertRow {
  server_name: string;
  fingerprint256: string;
  certificate_pem: string;
  pinned_ts: number;
}

export const federationStore = {
  async getServerKey(q: Queryable, serverName: string, keyId: string): Promise<ServerKeyRow | undefined> {
    return q.get<ServerKeyRow>('SELECT * FROM server_keys WHERE server_name = ? AND key_id = ?', serverName, keyId);
  },

  async upsertServerKey(q: Queryable, r: ServerKeyRow): Promise<void> {
    // A key's validity only moves forward: an older document (a notary's stale copy) never shortens it.
    await q.run(
      `INSERT INTO server_keys (server_name, key_id, public_key, valid_until_ts, expired_ts, fetched_ts) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (server_name, key_id) DO UPDATE SET
         valid_until_ts = MAX(valid_until_ts, excluded.valid_until_ts),
         expired_ts = CASE WHEN excluded.expired_ts IS NULL THEN NULL ELSE COALESCE(expired_ts, excluded.expired_ts) END,
         fetched_ts = excluded.fetched_ts
       WHERE public_key = excluded.public_key`,
      r.server_name,
      r.key_id,
      r.public_key,
      r.valid_until_ts,
      r.expired_ts,
      r.fetched_ts,
    );
  },

  async getKeyDocument(q: Queryable, serverName: string): Promise<{ document: string; valid_until_ts: number } | undefined> {
    return q.get('SELECT document, valid_until_ts FROM server_key_documents WHERE server_name = ?', serverName);
  },

  async putKeyDocument(q: Queryable, serverName: string, document: string, validUntilTs: number, now: number): Promise<void> {
    await q.run(
      `INSERT INTO server_key_documents (server_name, document, valid_until_ts, fetched_ts) VALUES (?, ?, ?, ?)
       ON CONFLICT (server_name) DO UPDATE SET document = excluded.document, valid_until_ts = excluded.valid_until_ts, fetched_ts = excluded.fetched_ts
       WHERE excluded.valid_until_ts >= valid_until_ts`,
      serverName,
      document,
      validUntilTs,
      now,
    );
  },

  async getPinnedCert(q: Queryable, serverName: string): Promise<PinnedCertRow | undefined> {
    return q.get<PinnedCertRow>('SELECT * FROM federation_pinned_certs WHERE server_name = ?', serverName);
  },

  /** Pins unless a pin exists; returns the pin in force afterwards (first contact wins). */
  async pinCert(q: Queryable, r: PinnedCertRow): Promise<PinnedCertRow> {
    await q.run(
      'INSERT INTO federation_pinned_certs (server_name, fingerprint256, certificate_pem, pinned_ts) VALUES (?, ?, ?, ?) ON CONFLICT (server_name) DO NOTHING',
      r.server_name,
      r.fingerprint256,
      r.certificate_pem,
      r.pinned_ts,
    );
    return (await q.get<PinnedCertRow>('SELECT * FROM federation_pinned_certs WHERE server_name = ?', r.server_name))!;
  },
};
