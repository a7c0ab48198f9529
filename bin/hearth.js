#!/usr/bin/env node
// The `hearth` command. See homeserver/cli/main.ts for the commands and exit codes.
import { ensureNode22 } from './lib/node22.js';

await ensureNode22(import.meta.url);

try {
  const { main } = await import('../homeserver/cli/main.ts');
  process.exit(await main(process.argv.slice(2)));
} catch (error) {
  process.stderr.write(`hearth: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
