// PyTorch backend: runs python/blazeface_torch.py (the seed's BlazeFace nn.Module) on the emitted .pth.
// One helper process per loaded model, kept alive and fed framed batches over stdin/stdout, so torch is
// imported once. The interpreter is the first of $BLAZEFACE_PYTHON, python3, /usr/bin/python3 that can
// `import torch`; without one the backend is unavailable, with the reason.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ArtifactIntegrityError, BackendError, BackendUnavailableError } from '../errors.js';
import { REPO_ROOT } from '../fixtures.js';
import type { Availability, Backend, BackendFactory, ImageBatch, ModelSource, RawOutputs } from './backend.js';
import { checkImageBatch } from '../ir/batch.js';
import { listedArtifact } from './artifact-files.js';

/** The helper script, shipped with the package. */
export const TORCH_HELPER = path.join(REPO_ROOT, 'python', 'blazeface_torch.py');
/** File name of the PyTorch artifact inside a preset's artifacts folder. */
export const PTH_FILE = 'blazeface.pth';

export interface TorchPython {
  readonly executable: string;
  readonly torchVersion: string;
}

interface Completed {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error?: Error;
}

function runCommand(cmd: string, args: readonly string[], timeoutMs: number): Promise<Completed> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (error) => resolve({ code: null, stdout, stderr, error }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Candidate interpreters in order of preference, without duplicates. */
export function pythonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const list = [env.BLAZEFACE_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p && p.trim() !== '');
  return [...new Set(list)];
}

let found: Promise<TorchPython | { reason: string }> | null = null;

/** The first interpreter that can import torch (probed once per process), or why there is none. */
export function findTorchPython(): Promise<TorchPython | { reason: string }> {
  found ??= (async () => {
    const tried: string[] = [];
    for (const exe of pythonCandidates()) {
      // Importing torch can take a few seconds on a cold cache.
      const r = await runCommand(exe, ['-c', 'import torch; print(torch.__version__)'], 120_000);
      if (r.code === 0 && r.stdout.trim()) return { executable: exe, torchVersion: r.stdout.trim() };
      const why = r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit code ${r.code}`);
      tried.push(`${exe}: ${why}`);
    }
    return { reason: `no Python with PyTorch found (set BLAZEFACE_PYTHON); tried ${tried.join('; ')}` };
  })();
  return found;
}

/** Reads the helper's stdout as JSON lines and fixed-size binary payloads. */
class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  private want: { kind: 'line' } | { kind: 'bytes'; n: number } | null = null;
  private settle: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null;
  private closed: Error | null = null;

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    this.pump();
  }

  close(error: Error): void {
    this.closed = error;
    this.pump();
  }

  private pump(): void {
    if (!this.want || !this.settle) return;
    let out: Buffer | null = null;
    if (this.want.kind === 'line') {
      const nl = this.buf.indexOf(0x0a);
      if (nl >= 0) {
        out = this.buf.subarray(0, nl);
        this.buf = this.buf.subarray(nl + 1);
      }
    } else if (this.buf.length >= this.want.n) {
      out = this.buf.subarray(0, this.want.n);
      this.buf = this.buf.subarray(this.want.n);
    }
    const settle = this.settle;
    if (out) {
      this.want = null;
      this.settle = null;
      settle.resolve(out);
    } else if (this.closed) {
      this.want = null;
      this.settle = null;
      settle.reject(this.closed);
    }
  }

  private next(want: { kind: 'line' } | { kind: 'bytes'; n: number }): Promise<Buffer> {
    if (this.settle) throw new Error('FrameReader: one read at a time');
    return new Promise((resolve, reject) => {
      this.want = want;
      this.settle = { resolve, reject };
      this.pump();
    });
  }

  async line(): Promise<unknown> {
    const raw = (await this.next({ kind: 'line' })).toString('utf8');
    try {
      return JSON.parse(raw);
    } catch {
      throw new Error(`unexpected output from the helper: ${raw.slice(0, 200)}`);
    }
  }

  bytes(n: number): Promise<Buffer> {
    return this.next({ kind: 'bytes', n });
  }
}

function float32FromLE(b: Buffer): Float32Array {
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

function float32ToLE(data: Float32Array): Buffer {
  const out = Buffer.allocUnsafe(data.length * 4);
  for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i]!, i * 4);
  return out;
}

class TorchHelper {
  private readonly reader = new FrameReader();
  private stderr = '';
  private queue: Promise<unknown> = Promise.resolve();
  private exited = false;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (d: Buffer) => this.reader.push(d));
    child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    child.on('error', (err) => this.reader.close(err));
    // A helper that died mid-write gives EPIPE here; the 'close' handler reports why, so don't crash on it.
    child.stdin.on('error', () => undefined);
    child.on('close', (code, signal) => {
      this.exited = true;
      const tail = this.stderr.trim().split('\n').slice(-3).join(' | ');
      this.reader.close(new Error(`PyTorch helper exited (${signal ?? `code ${code}`})${tail ? `: ${tail}` : ''}`));
    });
  }

  static async start(python: string, pth: string, arch: string): Promise<{ helper: TorchHelper; tensors: number }> {
    const child = spawn(python, ['-u', TORCH_HELPER, 'serve', pth, arch], { stdio: ['pipe', 'pipe', 'pipe'] });
    const helper = new TorchHelper(child);
    try {
      const ready = (await helper.reader.line()) as { ready?: boolean; tensors?: number };
      if (!ready.ready) throw new Error(`unexpected greeting ${JSON.stringify(ready)}`);
      return { helper, tensors: ready.tensors ?? 0 };
    } catch (err) {
      await helper.stop();
      throw err;
    }
  }

  run(batch: ImageBatch): Promise<RawOutputs> {
    // Requests are strictly sequential on the one pipe.
    const job = this.queue.then(async () => {
      if (this.exited) throw new Error('PyTorch helper is not running');
      this.child.stdin.write(`${JSON.stringify({ shape: batch.shape })}\n`);
      this.child.stdin.write(float32ToLE(batch.data));
      const head = (await this.reader.line()) as { error?: string; regressors?: number[]; classificators?: number[] };
      if (head.error || !head.regressors || !head.classificators) throw new Error(`PyTorch helper: ${head.error ?? JSON.stringify(head)}`);
      const [n, anchors, coords] = head.regressors as [number, number, number];
      const reg = float32FromLE(await this.reader.bytes(n * anchors * coords * 4));
      const cls = float32FromLE(await this.reader.bytes(head.classificators.reduce((a, b) => a * b, 1) * 4));
      return { regressors: reg, classificators: cls, batch: n, numAnchors: anchors, numCoords: coords } satisfies RawOutputs;
    });
    this.queue = job.catch(() => undefined);
    return job;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.stdin.end(); // EOF: the helper's serve loop returns
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  }
}

export const torchBackend: BackendFactory = {
  name: 'torch',
  runs: 'blazeface.pth',
  async availability(): Promise<Availability> {
    const py = await findTorchPython();
    if ('reason' in py) return { available: false, reason: py.reason };
    if (!existsSync(TORCH_HELPER)) return { available: false, reason: `helper script missing: ${TORCH_HELPER}` };
    return { available: true };
  },

  async load(source: ModelSource): Promise<Backend> {
    const { preset } = source;
    if (!preset.torchArchitecture) {
      throw new BackendUnavailableError('NO_TORCH_ARCHITECTURE', `no PyTorch architecture for ${preset.name} (the seed's module has front and back layouts only)`);
    }
    const py = await findTorchPython();
    if ('reason' in py) throw new BackendUnavailableError('TORCH_UNAVAILABLE', py.reason);

    let tempDir: string | null = null;
    let pth: string;
    let artifact: string;
    const notes: string[] = [`python ${py.executable}, module python/blazeface_torch.py (${preset.torchArchitecture} layout), float32 on CPU`];
    const onDisk = path.join(source.artifactsDir, PTH_FILE);
    // With a verified source the .pth must be listed in the manifest (ARTIFACT_UNLISTED otherwise).
    const listed = source.overrides?.pth ? null : listedArtifact(source, PTH_FILE, 'torch');
    if (source.overrides?.pth) {
      tempDir = await mkdtemp(path.join(tmpdir(), 'blazeface-torch-'));
      pth = path.join(tempDir, PTH_FILE);
      await writeFile(pth, source.overrides.pth);
      artifact = `in-memory ${PTH_FILE} (${source.overrides.pth.byteLength} bytes)`;
    } else if (listed) {
      pth = listed.file;
      artifact = listed.file;
    } else if (existsSync(onDisk)) {
      pth = onDisk;
      artifact = onDisk;
    } else {
      // Like every other backend: run the converted artifact or nothing, so a report never vouches for
      // a file that was not shipped.
      throw new ArtifactIntegrityError('ARTIFACT_MISSING', `${onDisk}: no PyTorch artifact (run \`npm run convert\` first)`, { file: onDisk });
    }
    const cleanup = async (): Promise<void> => {
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    };

    let helper: TorchHelper;
    try {
      ({ helper } = await TorchHelper.start(py.executable, pth, preset.torchArchitecture));
    } catch (err) {
      await cleanup();
      const why = err instanceof Error ? err.message : String(err);
      // python/safe_torch_load.py refused to unpickle the file (it names code to run): say so, by its own code.
      const code = /\bPTH_UNSAFE\b/.test(why) ? 'PTH_UNSAFE' : 'TORCH_LOAD_FAILED';
      throw new BackendError(code, `${artifact}: PyTorch could not load it into the ${preset.torchArchitecture} module: ${why}`, {
        file: pth,
        cause: err,
      });
    }
    notes.push('one helper process, batches of any N sent over a pipe');
    return {
      name: 'torch',
      version: py.torchVersion,
      artifact,
      notes,
      run: async (batch) => {
        // The helper reads exactly N*H*W*C floats after the header: a mismatch would hang it or desync the pipe.
        checkImageBatch(source.graph, batch, `torch (${artifact})`);
        try {
          return await helper.run(batch);
        } catch (err) {
          throw new BackendError('BACKEND_RUN_FAILED', `${artifact}: PyTorch failed on a batch [${batch.shape.join(',')}] (${err instanceof Error ? err.message : String(err)})`, {
            file: artifact,
            cause: err,
          });
        }
      },
      async dispose() {
        await helper.stop();
        await cleanup();
      },
    };
  },
};
