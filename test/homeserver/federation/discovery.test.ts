// Server discovery, step by step (server-server-api.md "Resolving server names"), with fake DNS
// and a fake .well-known fetcher: the world we do not own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerResolver, maxAgeMs, parseWellKnownBody, type SrvRecord, type WellKnownResult } from '../../../homeserver/federation/discovery.ts';

function world(opts: { srv?: Record<string, SrvRecord[]>; wellKnown?: Record<string, WellKnownResult> } = {}) {
  const calls: string[] = [];
  let now = 1_000_000;
  const w = {
    calls,
    advance: (ms: number) => (now += ms),
    resolver: new ServerResolver({
      now: () => now,
      resolveSrv: async (name) => {
        calls.push(`srv ${name}`);
        const r = opts.srv?.[name];
        if (!r) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
        return r;
      },
      fetchWellKnown: async (host) => {
        calls.push(`wk ${host}`);
        return opts.wellKnown?.[host] ?? { ok: false };
      },
    }),
  };
  return w;
}
const srv = (name: string, port: number, priority = 10, weight = 5): SrvRecord => ({ name, port, priority, weight });

test('1: an IP literal is used directly, with its port or 8448, Host = server name, no DNS', async () => {
  const w = world();
  assert.deepEqual(await w.resolver.resolveServer('127.0.0.1:9101'), {
    host: '127.0.0.1',
    port: 9101,
    hostHeader: '127.0.0.1:9101',
    tlsServerName: '127.0.0.1',
  });
  assert.deepEqual(await w.resolver.resolveServer('[::1]'), { host: '::1', port: 8448, hostHeader: '[::1]', tlsServerName: '::1' });
  assert.deepEqual(w.calls, []);
});

test('2: a host name with an explicit port skips .well-known and SRV', async () => {
  const w = world({ wellKnown: { 'example.org': { ok: true, server: 'other.org' } } });
  assert.deepEqual(await w.resolver.resolveServer('example.org:8000'), {
    host: 'example.org',
    port: 8000,
    hostHeader: 'example.org:8000',
    tlsServerName: 'example.org',
  });
  assert.deepEqual(w.calls, []);
});

test('3.1/3.2: .well-known delegating to an IP literal or a host with a port', async () => {
  const w = world({ wellKnown: { 'a.org': { ok: true, server: '10.0.0.1' }, 'b.org': { ok: true, server: 'matrix.b.org:443' } } });
  assert.deepEqual(await w.resolver.resolveServer('a.org'), { host: '10.0.0.1', port: 8448, hostHeader: '10.0.0.1', tlsServerName: '10.0.0.1' });
  assert.deepEqual(await w.resolver.resolveServer('b.org'), { host: 'matrix.b.org', port: 443, hostHeader: 'matrix.b.org:443', tlsServerName: 'matrix.b.org' });
});

test('3.3-3.5: a delegated host without port tries _matrix-fed, then _matrix, then 8448; Host = delegated name', async () => {
  const w = world({
    wellKnown: { 'a.org': { ok: true, server: 'm.a.org' }, 'b.org': { ok: true, server: 'm.b.org' }, 'c.org': { ok: true, server: 'm.c.org' } },
    srv: { '_matrix-fed._tcp.m.a.org': [srv('t1.a.org', 1111)], '_matrix._tcp.m.b.org': [srv('t2.b.org', 2222)] },
  });
  assert.deepEqual(await w.resolver.resolveServer('a.org'), { host: 't1.a.org', port: 1111, hostHeader: 'm.a.org', tlsServerName: 'm.a.org' });
  assert.deepEqual(await w.resolver.resolveServer('b.org'), { host: 't2.b.org', port: 2222, hostHeader: 'm.b.org', tlsServerName: 'm.b.org' });
  assert.deepEqual(await w.resolver.resolveServer('c.org'), { host: 'm.c.org', port: 8448, hostHeader: 'm.c.org', tlsServerName: 'm.c.org' });
  assert.deepEqual(
    w.calls.filter((c) => c.includes('b.org')),
    ['wk b.org', 'srv _matrix-fed._tcp.m.b.org', 'srv _matrix._tcp.m.b.org'],
  );
});

test('4-6: no .well-known: SRV for the name itself (_matrix-fed first, lowest priority), else 8448; Host = name', async () => {
  const w = world({ srv: { '_matrix-fed._tcp.a.org': [srv('slow.a.org', 1, 20), srv('fast.a.org', 2, 10)], '_matrix._tcp.b.org': [srv('old.b.org', 3)] } });
  assert.deepEqual(await w.resolver.resolveServer('a.org'), { host: 'fast.a.org', port: 2, hostHeader: 'a.org', tlsServerName: 'a.org' });
  assert.deepEqual(await w.resolver.resolveServer('b.org'), { host: 'old.b.org', port: 3, hostHeader: 'b.org', tlsServerName: 'b.org' });
  assert.deepEqual(await w.resolver.resolveServer('c.org'), { host: 'c.org', port: 8448, hostHeader: 'c.org', tlsServerName: 'c.org' });
});

test('.well-known answers are cached 24 h by default (max-age honoured, capped at 48 h); errors back off', async () => {
  const w = world({ wellKnown: { 'a.org': { ok: true, server: 'm.a.org:1' }, 'b.org': { ok: true, server: 'm.b.org:1', maxAgeMs: 7 * 86_400_000 } } });
  await w.resolver.resolveServer('a.org');
  await w.resolver.resolveServer('b.org');
  await w.resolver.resolveServer('c.org');
  w.advance(23 * 3600_000);
  await w.resolver.resolveServer('a.org');
  await w.resolver.resolveServer('c.org');
  assert.equal(w.calls.filter((c) => c === 'wk a.org').length, 1, 'still cached after 23 h');
  assert.equal(w.calls.filter((c) => c === 'wk c.org').length, 2, 'an error is retried sooner');
  w.advance(2 * 3600_000);
  await w.resolver.resolveServer('a.org');
  assert.equal(w.calls.filter((c) => c === 'wk a.org').length, 2, 'refetched after 24 h');
  w.advance(24 * 3600_000);
  await w.resolver.resolveServer('b.org');
  assert.equal(w.calls.filter((c) => c === 'wk b.org').length, 2, 'a 7-day max-age is capped at 48 h');
});

test('an invalid .well-known body counts as an error; Cache-Control parsing', () => {
  assert.equal(parseWellKnownBody({ 'm.server': 'a.org:443' }), 'a.org:443');
  assert.equal(parseWellKnownBody({ 'm.server': 'a.org:99999' }), undefined);
  assert.equal(parseWellKnownBody({ server: 'a.org' }), undefined);
  assert.equal(parseWellKnownBody('nope'), undefined);
  assert.equal(maxAgeMs('public, max-age=3600'), 3_600_000);
  assert.equal(maxAgeMs('no-store'), 0);
  assert.equal(maxAgeMs(undefined), undefined);
});
