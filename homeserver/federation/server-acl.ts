// Whom we federate with, requests in and out (config `federation.allow`, `federation.deny`,
// `federation.policy`, `federation.domains`). Names compare case-insensitively in their host
// part, as DNS does; deny always wins.
//  - policy 'open' (the default): everyone, or only `allow` when it is non-empty.
//  - policy 'lan' (the desktop, issue #15): only key-bound LAN names that discovery has pinned
//    (LanDirectory.isKnown: present now or away, so that messages for it can queue), the
//    configured `domains` (changeable at run time: the user edits them), and `allow`.
import { isLanServerName } from '../protocol/lan-identity.ts';
import type { LanDirectory } from '../discovery/lan-directory.ts';

export type FederationPolicyKind = 'open' | 'lan';

export interface ServerAclOptions {
  policy?: FederationPolicyKind;
  domains?: readonly string[];
  lan?: LanDirectory;
}

export class ServerAcl {
  private readonly allow: Set<string>;
  private readonly deny: Set<string>;
  private readonly policy: FederationPolicyKind;
  private readonly lan: LanDirectory | undefined;
  private domains: Set<string>;

  constructor(allow: readonly string[] = [], deny: readonly string[] = [], opts: ServerAclOptions = {}) {
    this.allow = new Set(allow.map(normalize));
    this.deny = new Set(deny.map(normalize));
    this.policy = opts.policy ?? 'open';
    this.domains = new Set((opts.domains ?? []).map(normalize));
    this.lan = opts.lan;
  }

  /** True if we may exchange requests with `serverName`. */
  allows(serverName: string): boolean {
    const name = normalize(serverName);
    if (this.deny.has(name)) return false;
    if (this.policy === 'lan') {
      if (this.allow.has(name) || this.domains.has(name)) return true;
      return isLanServerName(name) && this.lan?.isKnown(name) === true;
    }
    return this.allow.size === 0 || this.allow.has(name);
  }

  /** Replaces the configured domains (policy 'lan'); takes effect for the next request. */
  setDomains(names: readonly string[]): void {
    this.domains = new Set(names.map(normalize));
  }

  get domainList(): string[] {
    return [...this.domains];
  }
}

function normalize(name: string): string {
  return name.toLowerCase();
}
