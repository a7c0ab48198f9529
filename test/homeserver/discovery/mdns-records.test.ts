// Reading `_hearth._tcp` services out of one mDNS response (homeserver/discovery/mdns-records.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressRecords, announcedServices, decodeTxt, goodbyes } from '../../../homeserver/discovery/mdns-records.ts';

const fqdn = 'abc._hearth._tcp.local';
const txt = (...s: string[]) => s.map((x) => Buffer.from(x));

test('a service is read only with its PTR, SRV and TXT in the same packet, with its target host addresses', () => {
  const full = {
    answers: [{ name: '_hearth._tcp.local', type: 'PTR', ttl: 4500, data: fqdn }],
    additionals: [
      { name: 'ABC._hearth._tcp.local', type: 'SRV', ttl: 120, data: { port: 8448, target: 'Abc.local' } },
      { name: fqdn, type: 'TXT', ttl: 4500, data: txt('sn=abc.local', 'u=') },
      { name: 'abc.local', type: 'A', ttl: 120, data: '10.0.0.2' },
      { name: 'other.local', type: 'A', ttl: 120, data: '10.0.0.3' },
    ],
  };
  const [service, ...more] = announcedServices(full);
  assert.equal(more.length, 0);
  assert.deepEqual(
    { ...service, txt: { ...service!.txt } },
    { fqdn, target: 'abc.local', port: 8448, txt: { sn: 'abc.local', u: '' }, addresses: ['10.0.0.2'] },
  );
  const withoutTxt = { ...full, additionals: full.additionals.filter((r) => r.type !== 'TXT') };
  assert.deepEqual(announcedServices(withoutTxt), []);
  const otherService = { ...full, answers: [{ name: '_http._tcp.local', type: 'PTR', ttl: 4500, data: fqdn }] };
  assert.deepEqual(announcedServices(otherService), []);
});

test('records of the wrong shape are skipped, never thrown on', () => {
  const junk = {
    answers: [
      null,
      7,
      { name: '_hearth._tcp.local', type: 'PTR', ttl: 1, data: { not: 'a name' } },
      { name: '_hearth._tcp.local', type: 'PTR', ttl: 1, data: fqdn },
    ],
    additionals: [
      { name: fqdn, type: 'SRV', ttl: 1, data: 'not an object' },
      { name: fqdn, type: 'TXT', ttl: 1, data: 'x' },
    ],
  } as never;
  assert.deepEqual(announcedServices(junk), []);
  assert.deepEqual(announcedServices({ answers: 'nope' as never }), []);
  assert.deepEqual(goodbyes(junk), []);
  assert.deepEqual([...addressRecords(junk)], []);
});

test('a goodbye is a PTR record with TTL 0 (RFC 6762 10.1); address records with TTL 0 are not addresses', () => {
  const bye = {
    answers: [
      { name: '_hearth._tcp.local', type: 'PTR', ttl: 0, data: 'ABC._hearth._tcp.local' },
      { name: 'abc.local', type: 'A', ttl: 0, data: '10.0.0.2' },
    ],
  };
  assert.deepEqual(goodbyes(bye), [fqdn]);
  assert.deepEqual(announcedServices(bye), []);
  assert.deepEqual([...addressRecords(bye)], []);
});

test('TXT strings: the first occurrence of a key wins, keys are case-insensitive, empty values are kept, __proto__ is only a key', () => {
  const decoded = decodeTxt(txt('SN=first', 'sn=second', 'u=', 'novalue', '=x', '__proto__=p', 'label=a=b'));
  assert.deepEqual(Object.entries(decoded), [
    ['sn', 'first'],
    ['u', ''],
    ['__proto__', 'p'],
    ['label', 'a=b'],
  ]);
  assert.equal(Object.getPrototypeOf(decoded), null);
});
