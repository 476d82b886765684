// Issue 9, defect 1: a crafted .pth must never run code, with torch.load's weights_only (torch >= 1.13) or
// without it (older torch, simulated here by replacing torch.load with one that has no weights_only).
// Both Python entry points are driven: blazeface_torch.py (the torch backend) and export_seed_weights.py.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTorchPython } from '../src/backends/torch.js';
import { pickle, py } from '../src/emit/torch/pickle.js';
import { writeStoredZip } from '../src/emit/torch/zip.js';
import { REPO_ROOT, seedDir } from '../src/fixtures.js';
import { runPython } from './torch-helpers.js';

const PY = await findTorchPython();
const PYTHON = 'executable' in PY ? PY.executable : null;
const SKIP = PYTHON ? '' : ` (skipped: ${'reason' in PY ? PY.reason : ''})`;
const PY_DIR = path.join(REPO_ROOT, 'python');
const SEED = seedDir();

// Runs a helper script as torch < 1.13 would: torch.load without a weights_only parameter (passing it
// raises TypeError, as old torch did). The helper must then use its own restricted unpickler.
const OLD_TORCH = `
import runpy, sys, torch
_real = torch.load
def old_load(f, map_location=None, pickle_module=None, **pickle_load_args):
    if 'weights_only' in pickle_load_args:
        raise TypeError("load() got an unexpected keyword argument 'weights_only'")
    return _real(f, map_location=map_location, pickle_module=pickle_module, **pickle_load_args)
torch.load = old_load
script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, ${JSON.stringify(PY_DIR)})
runpy.run_path(script, run_name='__main__')
`;

describe.skipIf(!PYTHON)(`crafted .pth files never run code${SKIP}`, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hostile-pth-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A checkpoint whose pickle calls os.system('touch <marker>') when unpickled. */
  async function evil(kind: 'zip' | 'legacy', marker: string): Promise<string> {
    const payload = pickle(py.call(py.global('os', 'system'), [py.str(`touch ${marker}`)]));
    const file = path.join(dir, `${kind}-${path.basename(marker)}.pth`);
    const bytes =
      kind === 'zip'
        ? writeStoredZip([
            { name: 'archive/data.pkl', data: payload },
            { name: 'archive/version', data: new TextEncoder().encode('3\n') },
          ])
        : payload; // the legacy format starts with a pickle (the magic number), unpickled first
    await writeFile(file, bytes);
    return file;
  }

  const scripts = [
    { script: 'blazeface_torch.py', args: (pth: string) => ['keys', pth] },
    { script: 'export_seed_weights.py', args: (pth: string) => ['compare', pth, pth] },
  ];
  for (const kind of ['zip', 'legacy'] as const) {
    for (const torchVersion of ['current', 'old'] as const) {
      for (const { script, args } of scripts) {
        it(`${script}, ${kind} format, ${torchVersion === 'old' ? 'torch without weights_only' : 'weights_only'}: refused with PTH_UNSAFE, payload not run`, async () => {
          const marker = path.join(dir, `ran-${kind}-${torchVersion}-${script}`);
          const pth = await evil(kind, marker);
          const scriptPath = path.join(PY_DIR, script);
          const argv = torchVersion === 'old' ? ['-c', OLD_TORCH, scriptPath, ...args(pth)] : [scriptPath, ...args(pth)];
          const r = await runPython(PYTHON!, argv);
          expect(existsSync(marker)).toBe(false);
          expect(r.code, r.stderr).toBe(3);
          expect(r.stderr).toContain('PTH_UNSAFE');
          expect(r.stderr).toContain(pth);
          if (torchVersion === 'old') expect(r.stderr).toMatch(/names (os|posix)\.system/);
        });
      }
    }
  }

  it('a TorchScript archive (which torch.load would hand to torch.jit.load) is refused', async () => {
    const pth = path.join(dir, 'script.pth');
    await writeFile(
      pth,
      writeStoredZip([
        { name: 'archive/data.pkl', data: pickle(py.call(py.global('collections', 'OrderedDict'), [])) },
        { name: 'archive/constants.pkl', data: pickle(py.tuple()) },
        { name: 'archive/version', data: new TextEncoder().encode('3\n') },
      ]),
    );
    const r = await runPython(PYTHON!, [path.join(PY_DIR, 'blazeface_torch.py'), 'keys', pth]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/PTH_UNSAFE: .*TorchScript/);
  });

  it('without weights_only, genuine checkpoints (zip and legacy format) load bit for bit as with weights_only', async () => {
    const files = [path.join(REPO_ROOT, 'artifacts', 'short_range', 'blazeface.pth')];
    if (SEED) files.push(path.join(SEED, 'blazeface.pth'), path.join(SEED, 'blazefaceback.pth'));
    const code = `
import sys, torch
sys.path.insert(0, ${JSON.stringify(PY_DIR)})
from safe_torch_load import load_state_dict, supports_weights_only
def old_load(f, map_location=None, pickle_module=None, **kw):
    raise AssertionError('the fallback must not call torch.load')
assert not supports_weights_only(old_load) and supports_weights_only(torch.load)
for pth in sys.argv[1:]:
    a = load_state_dict(pth)
    b = load_state_dict(pth, torch_load=old_load)
    assert list(a) == list(b), pth
    assert all(torch.equal(a[k].view(torch.int32), b[k].view(torch.int32)) for k in a), pth
    print(pth, len(a))
`;
    const r = await runPython(PYTHON!, ['-c', code, ...files]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString().trim().split('\n')).toHaveLength(files.length);
  });
});
