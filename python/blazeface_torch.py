"""BlazeFace as a PyTorch nn.Module with the seed's state_dict layout (BlazeFace-PyTorch's blazeface.py),
plus a small CLI the TypeScript torch backend drives.

Architectures (keys match the seed's blazeface.pth / blazefaceback.pth):
  front (128x128): backbone1 = conv 5x5/2 (3->24), ReLU, 11 BlazeBlocks; backbone2 = 5 BlazeBlocks;
                   heads on the 16x16x88 and 8x8x96 maps.
  back  (256x256): backbone = conv 5x5/2, ReLU, 31 BlazeBlocks; final = FinalBlazeBlock (stride 2, no skip);
                   heads on the 16x16x96 and 8x8x96 maps.
Every convolution pads like TFLite's SAME (the odd pixel goes bottom/right), so results match the .tflite.

CLI:
  keys <pth>...                   per file, one line: JSON list of {key, shape, dtype} in file order
  load-check <pth> <arch>...      per pair, one line: load_state_dict(torch.load(pth), strict=True); JSON summary
  run <pth> <arch> N H W C        stdin: N*H*W*C little-endian float32 NHWC in [-1, 1];
                                  stdout: regressors [N,896,16] then classificators [N,896,1], float32 LE
  serve <pth> <arch>              like run, repeatedly, one framed request per batch (see serve())
  version                         torch.__version__
"""
import json
import struct
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

from safe_torch_load import UNSAFE_EXIT_CODE, UnsafeCheckpoint, load_state_dict


def pad_same(x, kernel, stride):
    """Zero-pad NCHW `x` as TFLite SAME does for this kernel/stride: total = max((ceil(n/s)-1)*s + k - n, 0),
    with the extra pixel on the bottom/right."""
    pads = []
    for n in (x.shape[3], x.shape[2]):  # F.pad takes the last dimension first
        out = -(-n // stride)
        total = max((out - 1) * stride + kernel - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads) if any(pads) else x


class BlazeBlock(nn.Module):
    """Depthwise 3x3 (stride 1 or 2) + pointwise 1x1, residual add, ReLU. The skip path is max-pooled 2x2
    when the block downsamples and zero-padded along channels when it widens."""

    def __init__(self, in_channels, out_channels, stride=1, kernel_size=3):
        super().__init__()
        self.stride = stride
        self.kernel_size = kernel_size
        self.channel_pad = out_channels - in_channels
        self.convs = nn.Sequential(
            nn.Conv2d(in_channels, in_channels, kernel_size, stride=stride, padding=0, groups=in_channels, bias=True),
            nn.Conv2d(in_channels, out_channels, 1, stride=1, padding=0, bias=True),
        )

    def forward(self, x):
        h = self.convs(pad_same(x, self.kernel_size, self.stride))
        skip = F.max_pool2d(x, self.stride, self.stride) if self.stride == 2 else x
        if self.channel_pad > 0:
            skip = F.pad(skip, (0, 0, 0, 0, 0, self.channel_pad))
        return F.relu(h + skip)


class FinalBlazeBlock(nn.Module):
    """The back model's last block: depthwise 3x3 stride 2 + pointwise, ReLU, no skip path."""

    def __init__(self, channels, kernel_size=3):
        super().__init__()
        self.kernel_size = kernel_size
        self.convs = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size, stride=2, padding=0, groups=channels, bias=True),
            nn.Conv2d(channels, channels, 1, stride=1, padding=0, bias=True),
        )

    def forward(self, x):
        return F.relu(self.convs(pad_same(x, self.kernel_size, 2)))


class Stem(nn.Conv2d):
    """The first 5x5 stride-2 conv, padded like SAME."""

    def __init__(self):
        super().__init__(3, 24, 5, stride=2, padding=0, bias=True)

    def forward(self, x):
        return super().forward(pad_same(x, 5, 2))


# (in, out, stride) of each BlazeBlock, from the seed's state_dict shapes; the strides are where the
# feature map halves (128 -> 64 -> 32 -> 16 -> 8 for front, 256 -> 128 -> 64 -> 32 -> 16 -> 8 for back).
FRONT_BACKBONE1 = [(24, 24, 1), (24, 28, 1), (28, 32, 2), (32, 36, 1), (36, 42, 1), (42, 48, 2),
                   (48, 56, 1), (56, 64, 1), (64, 72, 1), (72, 80, 1), (80, 88, 1)]
FRONT_BACKBONE2 = [(88, 96, 2)] + [(96, 96, 1)] * 4
BACK_BACKBONE = ([(24, 24, 1)] * 7 + [(24, 24, 2)] + [(24, 24, 1)] * 7 + [(24, 48, 2)] + [(48, 48, 1)] * 7
                 + [(48, 96, 2)] + [(96, 96, 1)] * 7)

ARCHITECTURES = {'front': 128, 'back': 256}


class BlazeFace(nn.Module):
    def __init__(self, arch):
        super().__init__()
        if arch not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {arch!r}; expected one of {sorted(ARCHITECTURES)}")
        self.arch = arch
        self.input_size = ARCHITECTURES[arch]
        blocks = lambda spec: [BlazeBlock(i, o, s) for i, o, s in spec]
        if arch == 'front':
            self.backbone1 = nn.Sequential(Stem(), nn.ReLU(), *blocks(FRONT_BACKBONE1))
            self.backbone2 = nn.Sequential(*blocks(FRONT_BACKBONE2))
            c8, c16 = 88, 96
        else:
            self.backbone = nn.Sequential(Stem(), nn.ReLU(), *blocks(BACK_BACKBONE))
            self.final = FinalBlazeBlock(96)
            c8, c16 = 96, 96
        self.classifier_8 = nn.Conv2d(c8, 2, 1, bias=True)
        self.classifier_16 = nn.Conv2d(c16, 6, 1, bias=True)
        self.regressor_8 = nn.Conv2d(c8, 32, 1, bias=True)
        self.regressor_16 = nn.Conv2d(c16, 96, 1, bias=True)

    def forward(self, x):
        """x: NCHW float32 in [-1, 1]. Returns (regressors [N,896,16], classificators [N,896,1])."""
        if self.arch == 'front':
            x = self.backbone1(x)  # 16x16x88
            h = self.backbone2(x)  # 8x8x96
        else:
            x = self.backbone(x)  # 16x16x96
            h = self.final(x)  # 8x8x96
        n = x.shape[0]
        # Heads are permuted to NHWC before flattening so anchors come out in TFLite's order.
        flat = lambda t, k: t.permute(0, 2, 3, 1).reshape(n, -1, k)
        c = torch.cat((flat(self.classifier_8(x), 1), flat(self.classifier_16(h), 1)), dim=1)
        r = torch.cat((flat(self.regressor_8(x), 16), flat(self.regressor_16(h), 16)), dim=1)
        return r, c


def load_state(pth):
    # A .pth is a pickle: never unpickle it without a restricted loader (see safe_torch_load.py).
    return load_state_dict(pth)


def load_model(pth, arch):
    model = BlazeFace(arch)
    state = load_state(pth)
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, state


def run_batch(model, raw, shape):
    n, h, w, c = shape
    expected = n * h * w * c * 4
    if len(raw) != expected:
        raise ValueError(f"expected {expected} bytes for NHWC {shape}, got {len(raw)}")
    if h != model.input_size or w != model.input_size or c != 3:
        raise ValueError(f"the {model.arch} model takes [N,{model.input_size},{model.input_size},3], got {list(shape)}")
    x = torch.frombuffer(bytearray(raw), dtype=torch.float32).reshape(n, h, w, c)
    if sys.byteorder != 'little':
        x = x.byteswap()
    with torch.no_grad():
        r, cl = model(x.permute(0, 3, 1, 2).contiguous())
    return r.contiguous(), cl.contiguous()


def tensor_bytes(t):
    return t.numpy().astype('<f4', copy=False).tobytes()


def read_exact(stream, n):
    chunks = []
    while n > 0:
        chunk = stream.read(n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b''.join(chunks)


def serve(pth, arch):
    """Framed protocol on stdin/stdout. After loading, one JSON line {"ready": true, ...}. Each request:
    a JSON line {"shape": [N,H,W,C]} followed by N*H*W*C float32 LE. Each reply: a JSON line
    {"regressors": [N,A,16], "classificators": [N,A,1]} followed by both arrays' bytes, or {"error": "..."}."""
    out = sys.stdout.buffer
    inp = sys.stdin.buffer
    model, state = load_model(pth, arch)
    out.write((json.dumps({'ready': True, 'torch': torch.__version__, 'tensors': len(state)}) + '\n').encode())
    out.flush()
    while True:
        line = inp.readline()
        if not line:
            return
        try:
            shape = json.loads(line)['shape']
            raw = read_exact(inp, 4 * shape[0] * shape[1] * shape[2] * shape[3])
            if raw is None:
                return
            r, c = run_batch(model, raw, shape)
            head = {'regressors': list(r.shape), 'classificators': list(c.shape)}
            out.write((json.dumps(head) + '\n').encode())
            out.write(tensor_bytes(r))
            out.write(tensor_bytes(c))
        except Exception as err:  # report and keep serving: the caller decides what to do
            out.write((json.dumps({'error': f'{type(err).__name__}: {err}'}) + '\n').encode())
        out.flush()


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == 'version':
        print(torch.__version__)
    elif cmd == 'keys':
        # Several files per call: importing torch is the slow part.
        if not args:
            raise ValueError('keys needs at least one .pth')
        for pth in args:
            state = load_state(pth)
            print(json.dumps([{'key': k, 'shape': list(v.shape), 'dtype': str(v.dtype).replace('torch.', '')}
                              for k, v in state.items()]))
    elif cmd == 'load-check':
        if not args or len(args) % 2:
            raise ValueError('load-check takes pairs: <pth> <arch> [<pth> <arch> ...]')
        for pth, arch in zip(args[0::2], args[1::2]):
            model, state = load_model(pth, arch)
            print(json.dumps({'ok': True, 'arch': arch, 'tensors': len(state), 'ordered': isinstance(state, OrderedDict),
                              'parameters': sum(p.numel() for p in model.parameters()), 'torch': torch.__version__}))
    elif cmd == 'run':
        model, _ = load_model(args[0], args[1])
        shape = [int(v) for v in args[2:6]]
        r, c = run_batch(model, sys.stdin.buffer.read(), shape)
        sys.stdout.buffer.write(tensor_bytes(r))
        sys.stdout.buffer.write(tensor_bytes(c))
    elif cmd == 'serve':
        serve(args[0], args[1])
    else:
        print(f'unknown command {cmd!r}\n{__doc__}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except UnsafeCheckpoint as err:
        print(f'blazeface_torch: PTH_UNSAFE: {err}', file=sys.stderr)
        sys.exit(UNSAFE_EXIT_CODE)
    except (IndexError, ValueError, RuntimeError, OSError) as err:
        print(f'blazeface_torch: {type(err).__name__}: {err}', file=sys.stderr)
        sys.exit(1)
