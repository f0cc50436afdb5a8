// The phone's offline data in IndexedDB, shared by the /periksa page and the service worker:
// one object store of named values (the verified bundle state, the pinned keys, the page pack,
// settings) and one of gate-log entries. Nothing here leaves the browser.

const DATABASE = 'skk-offline';
const VERSION = 1;
const VALUES = 'values';
const LOG = 'log';

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** The store: get/put/delete named values, and add/all/remove/clear gate-log entries. */
export async function openStore(factory = indexedDB) {
  const open = factory.open(DATABASE, VERSION);
  open.onupgradeneeded = () => {
    open.result.createObjectStore(VALUES);
    open.result.createObjectStore(LOG, { autoIncrement: true });
  };
  const db = await promised(open);
  const run = async (name, mode, action) => {
    const transaction = db.transaction(name, mode);
    const result = await promised(action(transaction.objectStore(name)));
    await new Promise((resolve, reject) => {
      transaction.oncomplete = resolve;
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
    return result;
  };
  return {
    get: (key) => run(VALUES, 'readonly', (s) => s.get(key)),
    put: (key, value) => run(VALUES, 'readwrite', (s) => s.put(value, key)),
    delete: (key) => run(VALUES, 'readwrite', (s) => s.delete(key)),
    log: {
      add: (entry) => run(LOG, 'readwrite', (s) => s.add(entry)),
      all: () => run(LOG, 'readonly', (s) => s.getAll()),
      keys: () => run(LOG, 'readonly', (s) => s.getAllKeys()),
      remove: (key) => run(LOG, 'readwrite', (s) => s.delete(key)),
      clear: () => run(LOG, 'readwrite', (s) => s.clear()),
    },
  };
}
