// Shared by the node tests: the vectors the Python core made, and an in-memory store with the
// interface of verifier/static/offline/store.js.
import { readFileSync } from 'node:fs';

/** The parity vectors (tests/offline_vectors.py), which tests/test_offline_parity.py writes. */
export function loadVectors() {
  const path = process.env.SKK_PARITY_VECTORS;
  if (!path) throw new Error('SKK_PARITY_VECTORS is not set: run `pytest tests/test_offline_parity.py`');
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** A store kept in memory (structuredClone, as IndexedDB copies values). */
export function memoryStore() {
  const values = new Map();
  const log = [];
  return {
    get: async (key) => (values.has(key) ? structuredClone(values.get(key)) : undefined),
    put: async (key, value) => { values.set(key, structuredClone(value)); },
    delete: async (key) => { values.delete(key); },
    log: {
      add: async (entry) => { log.push(structuredClone(entry)); },
      all: async () => structuredClone(log),
      keys: async () => log.map((_, i) => i),
      remove: async (key) => { log.splice(key, 1); },
      clear: async () => { log.length = 0; },
    },
  };
}
