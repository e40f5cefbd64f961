// IndexedDB: "kv" holds the learner's cached API answers (queue, topics,
// dashboard, exam drafts) under keys prefixed with their Cognito sub;
// "outbox" holds reviews not yet confirmed by the server, keyed by their
// review_id, each with the sub it belongs to.

const NAME = 'easysks';
let dbp = null;

function open() {
  if (!dbp) {
    dbp = new Promise((resolve, reject) => {
      const req = indexedDB.open(NAME, 1);
      req.onupgradeneeded = () => {
        const db = req.result;
        db.createObjectStore('kv');
        db.createObjectStore('outbox', { keyPath: 'review_id' }).createIndex('sub', 'sub');
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return dbp;
}

async function tx(store, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(store, mode);
    const result = fn(t.objectStore(store));
    t.oncomplete = () => resolve(result && 'result' in result ? result.result : undefined);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

export const kvGet = (key) => tx('kv', 'readonly', (s) => s.get(key));
export const kvSet = (key, value) => tx('kv', 'readwrite', (s) => { s.put(value, key); });
export const kvDel = (key) => tx('kv', 'readwrite', (s) => { s.delete(key); });
// Every cached answer of one learner (sign-out on a shared device).
export const kvClear = (sub) => tx('kv', 'readwrite', (s) => {
  s.delete(IDBKeyRange.bound(`${sub}:`, `${sub}:\uffff`));
});

export const outboxAdd = (item) => tx('outbox', 'readwrite', (s) => { s.put(item); });
export const outboxList = (sub) => tx('outbox', 'readonly', (s) => s.index('sub').getAll(sub));
export const outboxDelete = (ids) => tx('outbox', 'readwrite', (s) => { for (const id of ids) s.delete(id); });
// Every queued review of one learner (their account was deleted: there is
// nothing to send them to any more).
export const outboxClear = async (sub) => {
  const ids = (await outboxList(sub)).map((r) => r.review_id);
  if (ids.length) await outboxDelete(ids);
};
