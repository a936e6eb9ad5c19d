// Replay of stored reactions: whoever watches an item later sees the reactions others sent, at
// the moments of the item they were sent at. Reactions are fetched in windows ahead of the
// playhead (GET /api/rooms/{id}/reactions?mediaId=&from=&to=, media seconds) and burst as the
// playhead crosses them. Reactions already shown live are skipped (Reactions.replay).

const WINDOW_S = 45; // how far ahead of the playhead one request reaches
const REFETCH_BEFORE_S = 10; // ask for the next window this long before the current one ends
const JUMP_S = 2; // a playhead move larger than this between two ticks is a seek, not playback
const SEEK_BACK_S = 0.5; // smaller steps back are the sync controller's corrections
const KEEP_BEHIND_S = 30; // reactions this far behind the playhead are dropped from memory
const RETRY_MS = 10000; // after a failed request
const PAGE_LIMIT = 500; // the server's default limit per request

export class ReactionReplay {
  constructor({ api, reactions }) {
    this.api = api;
    this.reactions = reactions;
    this.setItem(null, null);
  }

  /** The item on screen changed (or the page closed: nulls): forget everything fetched. */
  setItem(roomId, mediaId) {
    this.roomId = roomId;
    this.mediaId = mediaId;
    this.items = new Map(); // reaction id → reaction
    this.fetchedFrom = 0;
    this.fetchedTo = -1;
    this.token = (this.token ?? 0) + 1;
    this.loading = false;
    this.retryAt = 0;
    this.last = null; // the playhead at the previous tick
    this.fired = new Set(); // replayed on this pass over the item
  }

  /** Called every UI tick with the playhead (media seconds). */
  tick(time) {
    if (this.mediaId === null || !Number.isFinite(time)) return;
    const last = this.last;
    this.last = time;
    if (last !== null && (last - time > SEEK_BACK_S || time - last > JUMP_S)) {
      // A seek: refetch around the new position; going back replays that part again.
      if (time < last) this.fired.clear();
      this.token += 1;
      this.loading = false;
      this.fetchedTo = -1;
    } else if (last !== null && time > last) {
      for (const reaction of this.items.values()) {
        if (reaction.mediaTime > last && reaction.mediaTime <= time && !this.fired.has(reaction.id)) {
          this.fired.add(reaction.id);
          this.reactions.replay(reaction);
        }
      }
    }
    this.ensureWindow(time);
  }

  ensureWindow(time) {
    const inside = time >= this.fetchedFrom && time + REFETCH_BEFORE_S <= this.fetchedTo;
    if (inside || this.loading || Date.now() < this.retryAt) return;
    // Carry on from the current window when the playhead is in it; start afresh after a seek.
    const from = time >= this.fetchedFrom && time <= this.fetchedTo ? this.fetchedTo : Math.max(0, time - 1);
    this.fetch(from, time + WINDOW_S);
  }

  async fetch(from, to) {
    const token = this.token;
    this.loading = true;
    const params = new URLSearchParams({
      mediaId: String(this.mediaId),
      from: from.toFixed(3),
      to: to.toFixed(3),
    });
    try {
      const { reactions } = await this.api.get(`/api/rooms/${this.roomId}/reactions?${params}`);
      if (token !== this.token) return; // the item changed meanwhile
      const contiguous = from === this.fetchedTo;
      if (!contiguous) this.fetchedFrom = from;
      // A full page may stop short of `to`: continue from its last reaction next time.
      const lastTime = reactions.at(-1)?.mediaTime;
      this.fetchedTo = reactions.length >= PAGE_LIMIT && lastTime > from ? lastTime : to;
      const keepFrom = (this.last ?? from) - KEEP_BEHIND_S;
      for (const [id, reaction] of this.items) if (reaction.mediaTime < keepFrom) this.items.delete(id);
      for (const reaction of reactions) this.items.set(reaction.id, reaction);
    } catch (error) {
      if (token !== this.token) return;
      console.warn("vmeste: reactions replay", error);
      this.retryAt = Date.now() + RETRY_MS;
    } finally {
      if (token === this.token) this.loading = false;
    }
  }
}
