// Byte positions of fields inside a .tflite, found through the generated accessors, for in-place corruption in tests.
import * as flatbuffers from 'flatbuffers';
import { Model } from '../../src/generated/tflite/tflite_generated.js';

export function locate(bytes: Uint8Array) {
  const bb = new flatbuffers.ByteBuffer(bytes);
  const model = Model.getRootAsModel(bb);
  const sg = model.subgraphs(0)!;
  const field = (pos: number, id: number) => {
    const off = bb.__offset(pos, 4 + 2 * id);
    if (!off) throw new Error(`field ${id} absent`);
    return pos + off;
  };
  return {
    model,
    sg,
    tensorBuffer: (t: number) => field(sg.tensors(t)!.bb_pos, 2),
    tensorShapeEntry: (t: number, k: number) => bb.__vector(field(sg.tensors(t)!.bb_pos, 0)) + 4 * k,
    opcodeDeprecatedByte: (c: number) => field(model.operatorCodes(c)!.bb_pos, 0),
  };
}
