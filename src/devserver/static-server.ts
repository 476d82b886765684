// A small static file server for the browser checks and the demo: 127.0.0.1 only, GET/HEAD only,
// files under the mounted folders (no path escapes), plus in-memory routes (bundles, test batches).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.map': 'application/json',
};

export function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export interface StaticServerOptions {
  /** URL prefix ('/artifacts/') -> folder. */
  readonly mounts?: Readonly<Record<string, string>>;
  /** URL path -> one file on disk. */
  readonly files?: Readonly<Record<string, string>>;
  /** Default 0: a free port. */
  readonly port?: number;
}

export interface StaticServer {
  /** http://127.0.0.1:<port> (no trailing slash). */
  readonly url: string;
  /** Serve `body` at `urlPath` from memory (replaces an earlier one). */
  setMemory(urlPath: string, body: Uint8Array | string, type?: string): void;
  close(): Promise<void>;
}

export async function startStaticServer(opts: StaticServerOptions = {}): Promise<StaticServer> {
  const memory = new Map<string, { body: Uint8Array; type: string }>();
  const mounts = Object.entries(opts.mounts ?? {}).sort((a, b) => b[0].length - a[0].length);
  const files = new Map(Object.entries(opts.files ?? {}));

  function resolve(urlPath: string): string | null {
    const file = files.get(urlPath);
    if (file) return file;
    for (const [prefix, dir] of mounts) {
      if (!urlPath.startsWith(prefix)) continue;
      const root = path.resolve(dir);
      const target = path.resolve(root, `.${path.posix.normalize(`/${urlPath.slice(prefix.length)}`)}`);
      return target === root || target.startsWith(`${root}${path.sep}`) ? target : null;
    }
    return null;
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const send = (status: number, text: string) => {
        res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(text);
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'GET only');
      let urlPath: string;
      try {
        urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
      } catch {
        return send(400, 'bad URL');
      }
      if (urlPath.endsWith('/')) urlPath += 'index.html';
      const headers = { 'Cache-Control': 'no-store' };
      const mem = memory.get(urlPath);
      if (mem) {
        res.writeHead(200, { ...headers, 'Content-Type': mem.type, 'Content-Length': mem.body.byteLength });
        return res.end(req.method === 'HEAD' ? undefined : mem.body);
      }
      const file = resolve(urlPath);
      const info = file ? await stat(file).catch(() => null) : null;
      if (!file || !info?.isFile()) return send(404, `not found: ${urlPath}`);
      res.writeHead(200, { ...headers, 'Content-Type': contentType(file), 'Content-Length': info.size });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).on('error', () => res.destroy()).pipe(res);
    })();
  });
  // Node closes idle keep-alive sockets after 5 s, racing clients that reuse them (ECONNRESET under load).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setMemory(urlPath, body, type = contentType(urlPath)) {
      memory.set(urlPath, { body: typeof body === 'string' ? new TextEncoder().encode(body) : body, type });
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
