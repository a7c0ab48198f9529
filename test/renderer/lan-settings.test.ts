// The client-side check of a configured domain (renderer/src/lib/lan-settings.ts) against the
// spec's server name grammar (appendices.md "Server Name"), and adding one to the list.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addDomain, MAX_DOMAINS, serverNameProblem } from '../../renderer/src/lib/lan-settings.ts';

test('server names of the spec are accepted: DNS names, IPv4 and bracketed IPv6 literals, each with or without a port', () => {
  for (const name of ['example.org', 'matrix.example.com:8448', 'localhost', '1.2.3.4', '1.2.3.4:1234', '[::1]', '[1234:5678::abcd]:8448']) {
    assert.equal(serverNameProblem(name), null, name);
  }
});

test('what is not a server name is refused with a reason: URLs, user IDs, spaces, bad ports, bad IPv4, unclosed IPv6', () => {
  for (const [name, reason] of [
    ['', /Enter a server name/],
    ['https://example.org', /without https/],
    ['@bob:example.org', /no spaces, slashes, @/],
    ['exa mple.org', /no spaces/],
    ['example.org:http', /port must be a number/],
    ['example.org:123456', /port must be a number/],
    ['300.1.1.1', /not a host name/],
    ['exa_mple.org', /not a host name/],
    ['[::1', /closed with \]/],
    ['[::1]x', /Only a :port/],
  ] as const) {
    assert.match(serverNameProblem(name) ?? 'accepted', reason, name);
  }
});

test('adding a domain trims it, refuses a duplicate whatever its case, and stops at the bound', () => {
  assert.deepEqual(addDomain(['a.example'], '  b.example '), { domains: ['a.example', 'b.example'] });
  assert.deepEqual(addDomain(['a.example'], 'A.Example'), { problem: 'A.Example is already in the list.' });
  const full = Array.from({ length: MAX_DOMAINS }, (_, i) => `s${i}.example`);
  assert.deepEqual(addDomain(full, 'one-more.example'), { problem: `At most ${MAX_DOMAINS} servers.` });
  assert.ok('problem' in addDomain([], 'not a name'));
});
