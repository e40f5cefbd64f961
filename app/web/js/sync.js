// Reviews, online and offline, counted exactly once.
//
// Every rating is first written to the IndexedDB outbox with a fresh
// review_id and its time (reviewed_at, corrected by the server's clock when
// the device's is off), and only then sent. Online it goes straight out with
// POST /study/review; whatever is left (offline, a lost answer, a server
// error) goes out in batches with POST /study/reviews when the connection
// returns, after sign-in, on start and with a growing pause after a failure.
// An entry leaves the outbox only when the server has confirmed it; the
// server applies each review_id once, so a retry never double-counts.

import { api, isOffline, serverNow } from './api.js';
import { authEvents, currentSub, lastSub } from './auth.js';
import { outboxAdd, outboxDelete, outboxList } from './db.js';

export const syncEvents = new EventTarget();
const MAX_AGE = 30 * 24 * 3600 * 1000 - 3600 * 1000; // the server's 30 days, less an hour
let flushing = null;
let retry = 0;
let backoff = 2000;

export async function pendingCount() {
  const sub = lastSub();
  return sub ? (await outboxList(sub)).length : 0;
}

async function emit() {
  const n = await pendingCount();
  syncEvents.dispatchEvent(new CustomEvent('pending', { detail: n }));
  return n;
}

function later() {
  clearTimeout(retry);
  retry = setTimeout(flush, backoff);
  backoff = Math.min(backoff * 2, 60000);
}

function rejected(count) {
  syncEvents.dispatchEvent(new CustomEvent('rejected', { detail: count }));
}

// Which refusals are final. Sending the same thing again cannot succeed
// after a 400 or 422, or a 409 review_id_conflict (the id was used for
// another review). Everything else is sent again: offline, 401 (after the
// next sign-in), 409 db_conflict, 429 and 5xx (also 503 catalogue_changed).
// A 404 card_not_found is final only once the card has stayed unknown for
// UNKNOWN_GRACE: during a rolling deploy that adds a card, a server that has
// not loaded the new catalogue yet answers 404 for a card another one served.
const UNKNOWN_GRACE = 15 * 60 * 1000;
const unknownCard = (e) => e.status === 404 && e.code === 'card_not_found';
const refused = (e) => !isOffline(e)
  && ([400, 422].includes(e.status) || (e.status === 409 && e.code === 'review_id_conflict') || unknownCard(e));

// Whether a refusal of `items` is final; a first card_not_found is noted on
// the items (kept in the outbox) and is final only after UNKNOWN_GRACE.
async function final(e, items) {
  if (!unknownCard(e)) return true;
  const now = Date.now();
  let all = true;
  for (const item of items) {
    if (!item.unknown_since) {
      item.unknown_since = now;
      await outboxAdd(item);
    }
    if (now - item.unknown_since < UNKNOWN_GRACE) all = false;
  }
  return all;
}

// Resolves once the review is stored on this device; sending happens after.
export async function recordReview(cardId, rating) {
  const item = {
    review_id: crypto.randomUUID(),
    sub: currentSub(),
    card_id: cardId,
    rating,
    reviewed_at: new Date(serverNow()).toISOString(),
  };
  await outboxAdd(item);
  await emit();
  if (navigator.onLine) sendOne(item);
  return item;
}

async function sendOne(item) {
  try {
    await api('/study/review', {
      method: 'POST',
      body: { card_id: item.card_id, rating: item.rating, review_id: item.review_id },
      asSub: item.sub,
    });
    await outboxDelete([item.review_id]);
  } catch (e) {
    if (refused(e) && await final(e, [item])) {
      await outboxDelete([item.review_id]);
      rejected(1);
    } else if (e.code !== 'session_expired') {
      later();
    }
  }
  await emit();
}

export function flush() {
  if (!flushing) flushing = send().finally(() => { flushing = null; });
  return flushing;
}

async function send() {
  const sub = currentSub();
  if (!sub || !navigator.onLine) return emit();
  let items = await outboxList(sub);
  // reviewed_at is in the server's time, as the server's 30 days are.
  const stale = items.filter((i) => Date.parse(i.reviewed_at) < serverNow() - MAX_AGE);
  if (stale.length) {
    await outboxDelete(stale.map((i) => i.review_id));
    rejected(stale.length);
    items = items.filter((i) => !stale.includes(i));
  }
  items.sort((a, b) => a.reviewed_at.localeCompare(b.reviewed_at));
  const batches = [];
  for (let i = 0; i < items.length; i += 200) batches.push(items.slice(i, i + 200));
  let clamped = false;
  while (batches.length) {
    const chunk = batches.shift();
    try {
      await api('/study/reviews', {
        method: 'POST',
        body: {
          reviews: chunk.map(({ review_id, card_id, rating, reviewed_at }) => (
            { review_id, card_id, rating, reviewed_at })),
        },
        asSub: sub,
      });
      // applied, duplicate or logged_only: the server has every one of them.
      await outboxDelete(chunk.map((r) => r.review_id));
      backoff = 2000;
    } catch (e) {
      if (e.code === 'invalid_review_time' && !clamped) {
        // The device clock ran ahead while offline: the refusal carried the
        // server's clock, so times in its future become its now, once.
        clamped = true;
        const now = new Date(serverNow() - 1000).toISOString();
        for (const r of chunk) if (r.reviewed_at > now) r.reviewed_at = now;
        batches.unshift(chunk);
      } else if (refused(e) && chunk.length > 1) {
        // One review the server refuses (a card gone from the catalogue, a
        // time out of range) refuses its whole batch: send that batch one
        // by one, so only the refused one is dropped.
        batches.unshift(...chunk.map((r) => [r]));
      } else if (refused(e) && await final(e, chunk)) {
        await outboxDelete(chunk.map((r) => r.review_id));
        rejected(chunk.length);
      } else if (refused(e)) {
        // A card not known yet: the others go on, this one is sent again.
        later();
      } else if (e.code !== 'session_expired') {
        later();
        break;
      } else {
        break;
      }
    }
  }
  return emit();
}

window.addEventListener('online', () => { backoff = 2000; flush(); });
authEvents.addEventListener('signedin', () => flush());
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') flush();
});
