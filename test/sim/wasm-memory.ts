/**
 * Test helper: records every WebAssembly.Memory instantiated after it is
 * installed, so a test can measure Rapier's heap precisely (RSS mixes in the
 * JS heap and allocator slack). Install it before anything loads Rapier.
 */
export function captureWasmMemories(): () => number {
  const memories: WebAssembly.Memory[] = [];
  const original = WebAssembly.instantiate;
  const collect = (instance: WebAssembly.Instance) => {
    for (const v of Object.values(instance.exports)) if (v instanceof WebAssembly.Memory) memories.push(v);
  };
  (WebAssembly as { instantiate: unknown }).instantiate = async function (...args: unknown[]) {
    const r = await (original as (...a: unknown[]) => Promise<unknown>).apply(WebAssembly, args);
    if (r instanceof WebAssembly.Instance) collect(r);
    else collect((r as WebAssembly.WebAssemblyInstantiatedSource).instance);
    return r;
  };
  return () => memories.reduce((n, m) => n + m.buffer.byteLength, 0);
}
