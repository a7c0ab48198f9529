// Issue #13, class 4 (rate limiting that could be dodged) and class 8 (password policy, login
// time telling whether a user exists), over real HTTP against real SQLite. Servers here start
// with the default limits unless a test says otherwise: the limits must hold as shipped.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { registerUser, startTestServer, type TestServer } from '../../helpers/server.ts';
import { assertError, checked, type CheckedResponse } from '../../helpers/checked-call.ts';
import { DEFAULTS } from '../../../homeserver/config/load.ts';
import { scryptRuns } from '../../../homeserver/users/passwords.ts';

const PASSWORD = 'correct horse battery staple';

/** A server with every limit at its default, as `hearth serve` runs with no config file. */
function startWithDefaults(): Promise<TestServer> {
  return startTestServer({ rateLimit: { ...DEFAULTS.rateLimit } });
}

async function withServer(start: () => Promise<TestServer>, body: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await start();
  try {
    await body(server);
  } finally {
    await server.stop();
  }
}

const login = (server: TestServer, user: string, password: string, extra: Record<string, unknown> = {}) =>
  checked(server, undefined, 'POST', '/login', { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password, ...extra });

function assertLimited(res: CheckedResponse): number {
  const body = assertError(res, 429, 'M_LIMIT_EXCEEDED');
  assert.ok(Number.isInteger(body.retry_after_ms) && body.retry_after_ms > 0, `retry_after_ms ${body.retry_after_ms}`);
  return body.retry_after_ms as number;
}

describe('the request limiter keys on who the client is', () => {
  // A refill of one request per 100 s: nothing refills while a test runs, so counts are exact.
  const tight = { perSecond: 0.01, burst: 5 };

  test('a new junk token per request is limited like one client: its address', async () => {
    await withServer(
      () => startTestServer({ rateLimit: { ...tight, registrationBurst: 100 } }),
      async (server) => {
        const statuses: number[] = [];
        let refused: CheckedResponse | undefined;
        for (let i = 0; i < 8; i++) {
          const res = await checked(server, undefined, 'POST', '/createRoom', {}, { headers: { authorization: `Bearer junk-${i}` } });
          statuses.push(res.status);
          if (res.status === 429) refused ??= res;
        }
        assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429], 'the address has a burst of 5, whatever token each request carries');
        assertLimited(refused!);
      },
    );
  });

  test("two access tokens of one user share the user's bucket, and do not drain the address's", async () => {
    await withServer(
      () => startTestServer({ rateLimit: { ...tight, registrationBurst: 100 } }),
      async (server) => {
        // Registration (2 writes) and a second login (1) come from the address: 2 of its 5 remain.
        const first = await registerUser(server, 'dana', PASSWORD);
        const second = await login(server, 'dana', PASSWORD);
        assert.equal(second.status, 200);
        const devices = [first, { ...first, accessToken: second.body.access_token as string }];
        const statuses: number[] = [];
        for (let i = 0; i < 8; i++) {
          const res = await checked(server, devices[i % 2], 'PUT', `/user/${encodeURIComponent(first.userId)}/account_data/m.test`, { i });
          statuses.push(res.status);
        }
        assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429], 'five writes for the user, whichever device sends them');
        // The address still has its own two requests: the user's writes were not counted there.
        const junk = await checked(server, undefined, 'POST', '/createRoom', {}, { headers: { authorization: 'Bearer junk' } });
        assertError(junk, 401, 'M_UNKNOWN_TOKEN');
      },
    );
  });
});

describe('failed logins', () => {
  test('20 wrong passwords for one account are refused with retry_after_ms, and the right password too while waiting', async () => {
    await withServer(startWithDefaults, async (server) => {
      await registerUser(server, 'erin', PASSWORD);
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await login(server, 'erin', `guess ${i}`);
        statuses.push(res.status);
        if (res.status === 429) assertLimited(res);
        else assertError(res, 403, 'M_FORBIDDEN');
      }
      const free = DEFAULTS.rateLimit.failedLoginsPerAccount;
      assert.deepEqual(statuses.slice(0, free), Array<number>(free).fill(403), `the first ${free} mistakes are heard: ${statuses.join(',')}`);
      assert.ok(statuses.filter((s) => s === 429).length >= 10, `most of the rest are refused: ${statuses.join(',')}`);
      // The right password is refused as well: otherwise guessing would go on and only the answer be hidden.
      assertLimited(await login(server, 'erin', PASSWORD));
    });
  });

  test('the m.login.password UIA stage counts against the same limit', async () => {
    await withServer(startWithDefaults, async (server) => {
      const frank = await registerUser(server, 'frank', PASSWORD);
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const res = await checked(server, frank, 'POST', '/account/deactivate', {
          auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'frank' }, password: `guess ${i}` },
        });
        statuses.push(res.status);
      }
      assert.equal(statuses.slice(0, 5).join(','), '401,401,401,401,401', `failed stages: ${statuses.join(',')}`);
      assert.ok(statuses.includes(429), `then refused: ${statuses.join(',')}`);
      assertLimited(await login(server, 'frank', PASSWORD));
    });
  });

  test('one address guessing across many accounts is refused too', async () => {
    await withServer(startWithDefaults, async (server) => {
      const statuses: number[] = [];
      // Accounts that do not exist count the same as ones that do: the answer must not tell them apart.
      for (let i = 0; i < 30; i++) statuses.push((await login(server, `nobody${i}`, 'guess')).status);
      const free = DEFAULTS.rateLimit.failedLoginsPerAddress;
      assert.deepEqual(statuses.slice(0, free), Array<number>(free).fill(403), statuses.join(','));
      assert.ok(statuses.slice(free).includes(429), statuses.join(','));
    });
  });
});

describe('password hashing is bounded', () => {
  test('concurrent logins beyond the bound get 429 rather than queuing without end', async () => {
    await withServer(startWithDefaults, async (server) => {
      await registerUser(server, 'gina', PASSWORD);
      const results = await Promise.all(Array.from({ length: 60 }, () => login(server, 'gina', PASSWORD)));
      const statuses = results.map((r) => r.status);
      assert.ok(
        statuses.every((s) => s === 200 || s === 429),
        statuses.join(','),
      );
      assert.ok(statuses.includes(200), 'those within the bound log in');
      const refused = results.filter((r) => r.status === 429);
      assert.ok(refused.length > 0, 'those past it are refused at once');
      for (const r of refused) assertLimited(r);
      // Nothing was left waiting: the server logs in the next client as usual.
      assert.equal((await login(server, 'gina', PASSWORD)).status, 200);
    });
  });

  test('a login for a user that does not exist runs scrypt, as a wrong password does', async () => {
    await withServer(startWithDefaults, async (server) => {
      await registerUser(server, 'hana', PASSWORD);
      const before = scryptRuns();
      assertError(await login(server, 'hana', 'wrong password'), 403, 'M_FORBIDDEN');
      const forWrongPassword = scryptRuns() - before;
      const middle = scryptRuns();
      assertError(await login(server, 'nobody-here', 'wrong password'), 403, 'M_FORBIDDEN');
      const forMissingUser = scryptRuns() - middle;
      assert.equal(forWrongPassword, 1);
      assert.equal(forMissingUser, forWrongPassword, 'the same work, so the time does not tell whether the user exists');
    });
  });
});

describe('registration', () => {
  test('registration from one address is throttled after its burst', async () => {
    await withServer(startWithDefaults, async (server) => {
      const burst = DEFAULTS.rateLimit.registrationBurst;
      for (let i = 0; i < burst; i++) await registerUser(server, `user${i}`, PASSWORD);
      // Refused at the first step of the dance, before any work is asked of the client.
      const next = await checked(server, undefined, 'POST', '/register', { username: 'one-too-many', password: PASSWORD });
      assertLimited(next);
      const available = await checked(server, undefined, 'GET', '/register/available?username=one-too-many');
      assert.equal(available.status, 200, 'and no account was made');
    });
  });

  test('a password shorter than the policy is 400 M_WEAK_PASSWORD, for registration and password change', async () => {
    await withServer(startWithDefaults, async (server) => {
      const min = DEFAULTS.passwordPolicy.minimumLength;
      assert.equal(min, 8);
      assertError(await checked(server, undefined, 'POST', '/register', { username: 'ivy', password: 'x'.repeat(min - 1) }), 400, 'M_WEAK_PASSWORD');
      const ivy = await registerUser(server, 'ivy', 'x'.repeat(min));
      const change = await checked(server, ivy, 'POST', '/account/password', {
        new_password: 'short',
        auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'ivy' }, password: 'x'.repeat(min) },
      });
      assertError(change, 400, 'M_WEAK_PASSWORD');
      assert.equal((await login(server, 'ivy', 'x'.repeat(min))).status, 200, 'the password did not change');
    });
  });

  test('guessing registration tokens is refused per address, at the validity check and the UIA stage alike', async () => {
    await withServer(
      () => startTestServer({ rateLimit: { ...DEFAULTS.rateLimit }, registration: 'token', registrationTokens: ['family-2024'] }),
      async (server) => {
        const validity = (token: string) => checked(server, undefined, 'GET', `/_matrix/client/v1/register/m.login.registration_token/validity?token=${token}`);
        const statuses: number[] = [];
        for (let i = 0; i < 25; i++) statuses.push((await validity(`guess-${i}`)).status);
        const free = DEFAULTS.rateLimit.failedLoginsPerAddress;
        assert.deepEqual(statuses.slice(0, free), Array<number>(free).fill(200), statuses.join(','));
        assert.ok(statuses.includes(429), statuses.join(','));
        assertLimited(await validity('family-2024'));
        const first = await checked(server, undefined, 'POST', '/register', { username: 'kim', password: PASSWORD });
        const stage = await checked(server, undefined, 'POST', '/register', {
          username: 'kim',
          password: PASSWORD,
          auth: { type: 'm.login.registration_token', token: 'family-2024', session: first.body.session },
        });
        assertLimited(stage);
      },
    );
  });

  test('password_policy.minimum_length raises the floor', async () => {
    await withServer(
      () => startTestServer({ passwordPolicy: { minimumLength: 30 } }),
      async (server) => {
        assertError(await checked(server, undefined, 'POST', '/register', { username: 'jo', password: PASSWORD }), 400, 'M_WEAK_PASSWORD');
      },
    );
  });
});
