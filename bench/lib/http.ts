// A small JSON client over node:http with a keep-alive agent, so every request in a loop reuses
// its TCP connection the way a real Matrix client does. Nothing here knows about Matrix.
import http from 'node:http';

export interface JsonResponse {
  status: number;
  // The bench reads a few known fields off Matrix responses; a full type per endpoint would add nothing.
  body: any;
}

export class HttpClient {
  readonly base: URL;
  private readonly agent: http.Agent;

  /** `maxSockets` bounds concurrent connections; give each concurrent sender its own. */
  constructor(base: string, maxSockets = 64) {
    this.base = new URL(base);
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  request(method: string, path: string, body?: unknown, token?: string): Promise<JsonResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    if (token) headers.authorization = `Bearer ${token}`;
    return new Promise((resolve, reject) => {
      const req = http.request({ host: this.base.hostname, port: this.base.port, path, method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text.length > 0 ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: hand back the text so the caller can show it
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Like request(), but throws unless the status is 200. */
  async ok(method: string, path: string, body?: unknown, token?: string): Promise<any> {
    const res = await this.request(method, path, body, token);
    if (res.status !== 200) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  close(): void {
    this.agent.destroy();
  }
}
