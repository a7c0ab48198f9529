import type { TypingService } from './typing.ts';
import type { ReceiptService } from './receipts.ts';
import type { PresenceService } from './presence.ts';

/** The ephemeral-data services /sync and the client API share. */
export interface Edus {
  typing: TypingService;
  receipts: ReceiptService;
  presence: PresenceService;
}
