// The TensorFlow GraphDef subset a tfjs `graph-model` carries in model.json (`modelTopology`), in the
// protobuf JSON encoding tfjs-converter's OperationMapper reads: int64 as decimal strings, strings as
// base64, shapes as {dim: [{size}]}. Only this file knows those encodings.

export type TfDataType = 'DT_FLOAT' | 'DT_INT32';

export type AttrValue =
  | { readonly s: string }
  | { readonly i: string }
  | { readonly f: number }
  | { readonly b: boolean }
  | { readonly type: TfDataType }
  | { readonly shape: TensorShapeProto }
  | { readonly list: { readonly i?: readonly string[]; readonly s?: readonly string[] } }
  | { readonly tensor: { readonly dtype: TfDataType; readonly tensorShape: TensorShapeProto } };

export interface TensorShapeProto {
  readonly dim?: readonly { readonly size: string }[];
}

export interface NodeDef {
  readonly name: string;
  readonly op: string;
  readonly input?: readonly string[];
  readonly attr?: Readonly<Record<string, AttrValue>>;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

export const attr = {
  str: (s: string): AttrValue => ({ s: b64(s) }),
  strs: (ss: readonly string[]): AttrValue => ({ list: { s: ss.map(b64) } }),
  int: (n: number): AttrValue => ({ i: String(n) }),
  ints: (ns: readonly number[]): AttrValue => ({ list: { i: ns.map(String) } }),
  float: (f: number): AttrValue => ({ f }),
  bool: (b: boolean): AttrValue => ({ b }),
  type: (t: TfDataType): AttrValue => ({ type: t }),
  shape: (dims: readonly number[]): AttrValue => ({ shape: shapeProto(dims) }),
  tensor: (dtype: TfDataType, dims: readonly number[]): AttrValue => ({ tensor: { dtype, tensorShape: shapeProto(dims) } }),
};

/** Scalars have no `dim` (an empty TensorShapeProto), as TensorFlow writes them. */
export function shapeProto(dims: readonly number[]): TensorShapeProto {
  return dims.length === 0 ? {} : { dim: dims.map((d) => ({ size: String(d) })) };
}
