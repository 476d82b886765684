"""Load a .pth state_dict without running code from it.

A .pth is a pickle, and a plain unpickler calls whatever callable the file names (os.system, eval, ...).
torch >= 1.13 has torch.load(weights_only=True) for this; older torch does not, so there the load goes
through RestrictedUnpickler, which resolves only the globals a state_dict of dense tensors needs. A file
naming anything else is refused with UnsafeCheckpoint; nothing ever falls back to a full unpickler.

Scripts that use it exit with UNSAFE_EXIT_CODE and print "PTH_UNSAFE: ..." on stderr, which the
TypeScript side (src/backends/torch.ts) maps to the PTH_UNSAFE error code.
"""
import inspect
import pickle
import zipfile
from collections import OrderedDict

import torch

UNSAFE_EXIT_CODE = 3


class UnsafeCheckpoint(Exception):
    """The file is not a plain state_dict pickle: it names a global outside the allowlist, or is TorchScript."""


def _allowed_globals():
    allowed = {('collections', 'OrderedDict'): OrderedDict}
    for name in ('_rebuild_tensor', '_rebuild_tensor_v2', '_rebuild_parameter'):
        fn = getattr(torch._utils, name, None)
        if fn is not None:
            allowed[('torch._utils', name)] = fn
    # Typed storages (torch.FloatStorage, ...): data containers whose bytes torch reads itself.
    for cls in getattr(torch, '_storage_classes', ()):
        allowed[(cls.__module__, cls.__name__)] = cls
        allowed[('torch', cls.__name__)] = cls
    return allowed


class RestrictedUnpickler(pickle.Unpickler):
    """pickle.Unpickler whose find_class (the only way a pickle reaches a callable: GLOBAL, STACK_GLOBAL,
    INST, OBJ and the copyreg extension opcodes all go through it) resolves the allowlist only."""

    _allowed = None

    def find_class(self, module, name):
        if RestrictedUnpickler._allowed is None:
            RestrictedUnpickler._allowed = _allowed_globals()
        found = RestrictedUnpickler._allowed.get((module, name))
        if found is None:
            raise UnsafeCheckpoint(f'the pickle names {module}.{name}, which a state_dict of tensors never needs')
        return found


class _RestrictedPickleModule:
    """What torch.load(pickle_module=...) uses: .Unpickler (torch subclasses it) and .load."""

    __name__ = 'safe_torch_load'
    Unpickler = RestrictedUnpickler

    @staticmethod
    def load(file, **kwargs):
        return RestrictedUnpickler(file, **kwargs).load()


def supports_weights_only(torch_load):
    """Probed from the signature, not by catching TypeError: a crafted file can raise TypeError too."""
    try:
        return 'weights_only' in inspect.signature(torch_load).parameters
    except (TypeError, ValueError):
        return False


def restricted_load(pth):
    """torch.load's own dispatch (zip or legacy format) with RestrictedUnpickler for every pickle in the file.
    torch.load(pickle_module=...) itself is not used: torch 1.13 ignores pickle_module unless weights_only."""
    ser = torch.serialization
    if not all(hasattr(ser, f) for f in ('_is_zipfile', '_open_zipfile_reader', '_load', '_legacy_load')):
        raise UnsafeCheckpoint(f'torch {torch.__version__} has neither weights_only nor the loader internals '
                               'a restricted unpickler needs; use torch >= 1.13')
    with open(pth, 'rb') as f:
        if ser._is_zipfile(f):
            with ser._open_zipfile_reader(f) as zf:
                return ser._load(zf, 'cpu', _RestrictedPickleModule, encoding='utf-8')
        return ser._legacy_load(f, 'cpu', _RestrictedPickleModule, encoding='utf-8')


def _refuse_torchscript(pth):
    # torch.load hands a zip holding constants.pkl to torch.jit.load, which runs the archive's
    # __setstate__ code whatever weights_only says. A state_dict never has one.
    if zipfile.is_zipfile(pth):
        with zipfile.ZipFile(pth) as z:
            if any(n == 'constants.pkl' or n.endswith('/constants.pkl') for n in z.namelist()):
                raise UnsafeCheckpoint('it is a TorchScript archive (constants.pkl), not a state_dict')


def load_state_dict(pth, torch_load=None):
    """torch.load(pth) with no code execution; returns the dict, checked to hold only tensors.
    `torch_load` defaults to torch.load (tests pass an old-style one without weights_only)."""
    torch_load = torch_load or torch.load
    try:
        _refuse_torchscript(pth)
        if supports_weights_only(torch_load):
            state = torch_load(pth, map_location='cpu', weights_only=True)
        else:
            state = restricted_load(pth)
    except UnsafeCheckpoint as err:
        raise UnsafeCheckpoint(f'{pth}: refused to unpickle: {err}') from None
    except pickle.UnpicklingError as err:
        # weights_only=True reports a forbidden global this way; other UnpicklingErrors are corrupt files.
        if 'Weights only load failed' not in str(err):
            raise
        raise UnsafeCheckpoint(f'{pth}: refused to unpickle: {err}') from None
    if not isinstance(state, (dict, OrderedDict)):
        raise ValueError(f'{pth}: expected a state_dict (a dict of tensors), got {type(state).__name__}')
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise ValueError(f'{pth}: entry {key!r} is a {type(value).__name__}, expected a tensor')
    return state
