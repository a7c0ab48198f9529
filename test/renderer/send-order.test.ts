import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SendOrder } from '../../renderer/src/lib/send-order.ts';

test('sends are handed over in the order they were made, though the first prepares slowest', async () => {
  const order = new SendOrder();
  const handed: string[] = [];
  const hand = async (text: string) => {
    handed.push(text);
    await sleep(1);
    return text;
  };
  const sent = await Promise.all([
    order.run(() => sleep(30).then(() => 'first'), hand),
    order.run(() => sleep(5).then(() => 'second'), hand),
    order.run(() => Promise.resolve('third'), hand),
  ]);
  assert.deepEqual(handed, ['first', 'second', 'third']);
  assert.deepEqual(sent, ['first', 'second', 'third']);
});

test('a preparation that fails rejects its own send only, and the next goes on', async () => {
  const order = new SendOrder();
  const handed: string[] = [];
  const failed = order.run(
    () => Promise.reject(new Error('crypto did not load')),
    async (text: string) => void handed.push(text),
  );
  const next = order.run(
    () => Promise.resolve('next'),
    async (text: string) => void handed.push(text),
  );
  await assert.rejects(failed, /crypto did not load/);
  await next;
  assert.deepEqual(handed, ['next']);
});

test('a send that fails after being handed over does not hold up the next', async () => {
  const order = new SendOrder();
  const failed = order.run(
    () => Promise.resolve('x'),
    () => Promise.reject(new Error('M_TOO_LARGE')),
  );
  const next = order.run(
    () => Promise.resolve('y'),
    async (text) => text,
  );
  await assert.rejects(failed, /M_TOO_LARGE/);
  assert.equal(await next, 'y');
});
