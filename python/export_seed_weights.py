"""Export the seed's PyTorch state_dicts (blazeface.pth, blazefaceback.pth) to a container TypeScript reads,
and compare two state_dicts bit for bit. Used by scripts/make-seed-tflite.ts and test/seed-models.test.ts.
Needs torch (the seed's legacy blazeface.pth is a non-zip torch serialization only torch itself reads).

Commands:
  export <pth> <dir> [<pth> <dir> ...]
      For each pair: torch.load(pth), then write <dir>/index.json and one <dir>/NNN.npy per tensor
      (numpy.save of the tensor as little-endian float32, C order). index.json:
        {"source": <pth>, "torch": <version>, "tensors": [{"key", "shape", "dtype", "file"}, ...]}
      in the state_dict's own order. Non-float32 tensors are refused (the seed's are all float32).
  compare <pth_a> <pth_b> [<pth_a> <pth_b> ...]
      For each pair, one JSON line: same keys in the same order, same shapes and dtypes, and values equal
      bit for bit (the float32 words compared as int32, so -0.0 vs 0.0 or NaN payloads count).
  version
      torch.__version__
"""
import json
import os
import sys

import numpy as np
import torch

from safe_torch_load import UNSAFE_EXIT_CODE, UnsafeCheckpoint, load_state_dict


def load_state(pth):
    # Never a full unpickler, whatever the torch version (see safe_torch_load.py).
    return load_state_dict(pth)


def export(pth, out_dir):
    state = load_state(pth)
    os.makedirs(out_dir, exist_ok=True)
    entries = []
    for i, (key, value) in enumerate(state.items()):
        if value.dtype != torch.float32:
            raise ValueError(f'{pth}: tensor {key!r} is {value.dtype}, expected torch.float32')
        name = f'{i:03d}.npy'
        array = value.detach().cpu().contiguous().numpy().astype('<f4', copy=False)
        np.save(os.path.join(out_dir, name), np.ascontiguousarray(array), allow_pickle=False)
        entries.append({'key': key, 'shape': list(value.shape), 'dtype': 'float32', 'file': name})
    index = {'source': os.path.abspath(pth), 'torch': torch.__version__, 'tensors': entries}
    with open(os.path.join(out_dir, 'index.json'), 'w') as f:
        json.dump(index, f, indent=1)
        f.write('\n')
    return {'source': pth, 'dir': out_dir, 'tensors': len(entries)}


def bits(t):
    return t.detach().cpu().contiguous().view(torch.int32) if t.dtype == torch.float32 else t


def compare(pth_a, pth_b):
    a = load_state(pth_a)
    b = load_state(pth_b)
    keys_a, keys_b = list(a.keys()), list(b.keys())
    report = {
        'a': pth_a,
        'b': pth_b,
        'tensors': [len(keys_a), len(keys_b)],
        'sameKeys': set(keys_a) == set(keys_b),
        'sameOrder': keys_a == keys_b,
        'onlyInA': [k for k in keys_a if k not in b],
        'onlyInB': [k for k in keys_b if k not in a],
        'shapeMismatches': [],
        'valueMismatches': [],
        'elements': 0,
    }
    for key in keys_a:
        if key not in b:
            continue
        ta, tb = a[key], b[key]
        if list(ta.shape) != list(tb.shape) or ta.dtype != tb.dtype:
            report['shapeMismatches'].append({'key': key, 'a': [list(ta.shape), str(ta.dtype)], 'b': [list(tb.shape), str(tb.dtype)]})
            continue
        report['elements'] += ta.numel()
        if not torch.equal(bits(ta), bits(tb)):
            diff = (ta.double() - tb.double()).abs()
            differing = int((bits(ta) != bits(tb)).sum())
            report['valueMismatches'].append({'key': key, 'differing': differing, 'maxAbs': float(diff.max())})
    report['identical'] = (report['sameOrder'] and not report['shapeMismatches'] and not report['valueMismatches']
                           and len(keys_a) == len(keys_b))
    return report


def pairs(args, what):
    if not args or len(args) % 2:
        raise ValueError(f'{what} takes pairs of arguments')
    return zip(args[0::2], args[1::2])


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == 'export':
        for pth, out_dir in pairs(args, 'export <pth> <dir>'):
            print(json.dumps(export(pth, out_dir)))
    elif cmd == 'compare':
        for pth_a, pth_b in pairs(args, 'compare <pth_a> <pth_b>'):
            print(json.dumps(compare(pth_a, pth_b)))
    elif cmd == 'version':
        print(torch.__version__)
    else:
        print(f'unknown command {cmd!r}\n{__doc__}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except UnsafeCheckpoint as err:
        print(f'export_seed_weights: PTH_UNSAFE: {err}', file=sys.stderr)
        sys.exit(UNSAFE_EXIT_CODE)
    except (ValueError, RuntimeError, OSError, EOFError) as err:
        print(f'export_seed_weights: {type(err).__name__}: {err}', file=sys.stderr)
        sys.exit(1)
