// Federation allow and deny lists by server name (config `federation.allow` / `federation.deny`).
// Names compare case-insensitively in their host part, as DNS does; deny wins over allow.

export class ServerAcl {
  private readonly allow: Set<string>;
  private readonly deny: Set<string>;

  constructor(allow: readonly string[] = [], deny: readonly string[] = []) {
    this.allow = new Set(allow.map(normalize));
    this.deny = new Set(deny.map(normalize));
  }

  /** True if we may exchange requests with `serverName`; an empty allow list allows everyone. */
  allows(serverName: string): boolean {
    const name = normalize(serverName);
    if (this.deny.has(name)) return false;
    return this.allow.size === 0 || this.allow.has(name);
  }
}

function normalize(name: string): string {
  return name.toLowerCase();
}
