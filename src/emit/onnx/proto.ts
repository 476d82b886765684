// ONNX protobuf encoding: schemas/onnx.proto (the subset of ONNX's own schema this emitter writes)
// parsed at runtime by protobufjs, plus the plain-object shapes of the messages we build.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** schemas/ sits at the repository root; this file is src/emit/onnx/ (or dist/emit/onnx/), three levels down. */
export const ONNX_SCHEMA_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'schemas', 'onnx.proto');

/** TensorProto.DataType values used here. */
export const OnnxDataType = { FLOAT: 1, INT64: 7 } as const;

/** AttributeProto.AttributeType values used here. */
export const OnnxAttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

export interface TensorProto {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

export interface NodeProto {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: AttributeProto[];
}

export type DimProto = { dim_value: number } | { dim_param: string };

export interface ValueInfoProto {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: DimProto[] } } };
}

export interface GraphProto {
  name: string;
  doc_string?: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
}

export interface ModelProto {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  producer_name: string;
  producer_version: string;
  doc_string?: string;
  graph: GraphProto;
  metadata_props: { key: string; value: string }[];
}

let modelType: protobuf.Type | null = null;

function onnxRoot(): protobuf.Root {
  // keepCase: the objects above use the schema's snake_case field names.
  return protobuf.parse(readFileSync(ONNX_SCHEMA_PATH, 'utf8'), { keepCase: true }).root;
}

/** The ModelProto message type (parsed once). */
export function modelProtoType(): protobuf.Type {
  modelType ??= onnxRoot().lookupType('onnx.ModelProto');
  return modelType;
}

/** Serialize a model. protobufjs writes fields in schema order and repeated fields in array order: same object, same bytes. */
export function encodeModel(model: ModelProto): Uint8Array {
  const type = modelProtoType();
  const message = type.fromObject(model as unknown as Record<string, unknown>);
  return type.encode(message).finish();
}

/** Decode bytes back to plain objects (tests and inspection); int64 as numbers, bytes left as decoded buffers. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const type = modelProtoType();
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false, arrays: true }) as unknown as ModelProto;
}
