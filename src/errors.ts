// Typed errors: every failure names what is wrong and where (file, byte offset, tensor, input).

export class ToolkitError extends Error {
  /** Stable machine-readable code, e.g. 'TFLITE_TOO_SMALL'. */
  readonly code: string;
  /** The file (or input label) the error is about, when there is one. */
  readonly file?: string;
  constructor(code: string, message: string, options: { file?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.file = options.file;
  }
}

/** The bytes are not a valid TFLite flatbuffer, or a table inside it is inconsistent. */
export class TfliteFormatError extends ToolkitError {
  readonly offset?: number;
  readonly tensor?: string;
  constructor(code: string, message: string, options: { file?: string; offset?: number; tensor?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.offset = options.offset;
    this.tensor = options.tensor;
  }
}

/** The model uses an operator this toolkit does not implement. */
export class UnsupportedOpError extends ToolkitError {
  readonly opName: string;
  readonly opIndex: number;
  constructor(opName: string, opIndex: number, file?: string) {
    super('UNSUPPORTED_OP', `${file ?? '<model>'}: operator #${opIndex} ${opName} is not supported`, { file });
    this.opName = opName;
    this.opIndex = opIndex;
  }
}

/** An artifact on disk does not match the manifest (missing, wrong size or sha256). */
export class ArtifactIntegrityError extends ToolkitError {}

/** An input image (file, buffer or raw array) cannot be used. */
export class InputImageError extends ToolkitError {}

/** A backend cannot run here (package or interpreter missing), with the reason. */
export class BackendUnavailableError extends ToolkitError {}

/** Two runtimes disagree beyond tolerance. */
export class ParityError extends ToolkitError {}

/** An option value is out of range or of the wrong kind (code INVALID_OPTION); names the option and the value. */
export class InvalidOptionError extends ToolkitError {
  readonly option: string;
  constructor(option: string, message: string) {
    super('INVALID_OPTION', message);
    this.option = option;
  }
}

/** The Graph IR cannot run: an op's operands do not fit (shapes, channels, axes, sizes). Names the op and its tensors. */
export class GraphShapeError extends ToolkitError {
  readonly opIndex?: number;
  readonly opType?: string;
  /** The tensors involved, as `#index 'name' [shape]`. */
  readonly tensors: readonly string[];
  constructor(code: string, message: string, options: { file?: string; opIndex?: number; opType?: string; tensors?: readonly string[]; cause?: unknown } = {}) {
    super(code, message, options);
    this.opIndex = options.opIndex;
    this.opType = options.opType;
    this.tensors = options.tensors ?? [];
  }
}

/** A runtime failed to load or run an artifact (BACKEND_LOAD_FAILED / BACKEND_RUN_FAILED); names the file and the runtime. */
export class BackendError extends ToolkitError {}
/** An output path cannot be written safely: it exists, is an input, or is not a regular file on a real filesystem. */
export class OutputPathError extends ToolkitError {}
