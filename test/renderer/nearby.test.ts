// What the "People nearby" section shows from a /nearby answer or the org.hearth.lan.nearby
// account data (renderer/src/lib/nearby.ts): people by display name, reports as warnings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nearbyView } from '../../renderer/src/lib/nearby.ts';

const ME = '@alice:a1b2.hearth.lan';

const content = {
  sharing: true,
  server_name: 'a1b2.hearth.lan',
  peers: [
    {
      server_name: 'c3d4.hearth.lan',
      label: "Bob's laptop",
      version: '0.1.0',
      users: [{ user_id: '@bob:c3d4.hearth.lan', displayname: 'Bob Chen' }, { user_id: '@zed:c3d4.hearth.lan' }],
    },
    { server_name: 'e5f6.hearth.lan', users: [{ user_id: '@carol:e5f6.hearth.lan', displayname: 'Carol Diaz', avatar_url: 'mxc://e5f6.hearth.lan/x' }] },
  ],
  reports: [
    { server_name: 'c3d4.hearth.lan', kind: 'impostor', detail: 'bad signature', from: '10.0.0.9', ts: 1 },
    { server_name: 'e5f6.hearth.lan', kind: 'certificate-changed', detail: '', from: '10.0.0.7', ts: 2 },
  ],
};

test('nearby people are listed by display name (user ID when they have none), with their desktop', () => {
  const view = nearbyView(content, ME);
  assert.equal(view.sharing, true);
  assert.deepEqual(view.people, [
    { userId: '@bob:c3d4.hearth.lan', name: 'Bob Chen', desktop: "Bob's laptop" },
    { userId: '@carol:e5f6.hearth.lan', name: 'Carol Diaz', desktop: 'e5f6.hearth.lan' },
    { userId: '@zed:c3d4.hearth.lan', name: '@zed:c3d4.hearth.lan', desktop: "Bob's laptop" },
  ]);
});

test('impostor and changed-certificate reports become warnings naming the desktop', () => {
  const { warnings } = nearbyView(content, ME);
  assert.equal(warnings.length, 2);
  assert.equal(warnings[0]!.serverName, 'c3d4.hearth.lan');
  assert.match(warnings[0]!.text, /claims to be a desktop it is not/);
  assert.equal(warnings[1]!.serverName, 'e5f6.hearth.lan');
  assert.match(warnings[1]!.text, /changed certificate/);
});

test('I am not listed as nearby, nor anyone twice, and malformed entries are skipped', () => {
  const view = nearbyView(
    {
      sharing: 'yes',
      peers: [
        { server_name: 'a1b2.hearth.lan', users: [{ user_id: ME, displayname: 'Me' }] },
        { server_name: 'c3d4.hearth.lan', users: [{ user_id: '@bob:c3d4.hearth.lan' }, { user_id: '@bob:c3d4.hearth.lan' }, { user_id: 42 }, null] },
        { users: [{ user_id: '@x:nowhere' }] },
        'junk',
      ],
      reports: [{ kind: 'impostor' }, null],
    },
    ME,
  );
  assert.equal(view.sharing, false);
  assert.deepEqual(
    view.people.map((p) => p.userId),
    ['@bob:c3d4.hearth.lan'],
  );
  assert.deepEqual(view.warnings, []);
  assert.deepEqual(nearbyView(null, ME), { sharing: false, people: [], warnings: [], desktops: [] });
});

test('the desktops nearby are listed once each by label (server name without one), and only a changed certificate is forgettable', () => {
  const view = nearbyView({ ...content, peers: [...content.peers, { server_name: 'c3d4.hearth.lan', label: 'dup', users: [] }] }, ME);
  assert.deepEqual(view.desktops, [
    { serverName: 'c3d4.hearth.lan', name: "Bob's laptop" },
    { serverName: 'e5f6.hearth.lan', name: 'e5f6.hearth.lan' },
  ]);
  assert.deepEqual(
    view.warnings.map((w) => w.forgettable),
    [false, true],
  );
});
