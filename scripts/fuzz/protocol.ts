// Messages between the fuzz pool (parent) and its child processes.
export type CaseResult =
  | { outcome: 'ok' }
  | { outcome: 'typed'; code: string; message: string }
  | { outcome: 'untyped'; code: string; message: string; stackTop: string; stack?: string };

export interface ChildRequest {
  readonly seed: number;
  readonly index: number;
  readonly kinds: readonly string[];
}

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'start'; index: number; kind: string; description: string }
  | { type: 'done'; index: number; ms: number; cpuMs: number; phaseCpuMs?: Record<string, number>; maxRssBytes: number; result: CaseResult }
  | { type: 'stray'; code: string; message: string; stackTop: string };
