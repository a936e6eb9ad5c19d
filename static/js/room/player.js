// The player area and the playback controls of the room page: loads the item the room's
// playback names into a player adapter (../players/), keeps it in step with a SyncController,
// and sends play/pause/seek/rate when my role may control playback (Action.PLAYBACK). An item
// that cannot be played shows why inside the player, with what the host can do about it.

import { messageFor } from "../errors.js";
import { t } from "../i18n.js";
import { Action } from "../permissions.js";
import { createPlayer, supportsRate } from "../players/index.js";
import { expectedPosition, SyncController } from "../sync.js";
import { haptic } from "../telegram.js";
import { formatTime, toast } from "../ui.js";

/** YouTube's errors 101 and 150: the owner does not allow embedding. */
const EMBEDDING_REFUSED = new Set([101, 150]);

export class PlayerPanel {
  constructor(view) {
    this.view = view;
    this.$ = view.$;
    this.playback = null;
    this.player = null;
    this.itemId = null; // the item the player was made for
    this.sync = null;
    this.failed = null; // {reason} when the item on screen cannot be played
    this.loadToken = 0;
    this.clientSeq = 0;
    this.seeking = false;
    this.bind();
  }

  get canControl() {
    return this.view.can(Action.PLAYBACK);
  }

  /** The position the room is at now (seconds). */
  roomPosition() {
    return expectedPosition(this.playback, this.view.connection.serverNow());
  }

  currentItem() {
    return this.view.queue.find((item) => item.id === this.playback?.mediaId) ?? null;
  }

  /** What reaction:send carries: the emoji at the current media time of the item on screen. */
  reactionPoint(emoji) {
    return {
      emoji,
      mediaTime: this.player?.currentTime() ?? 0,
      ...(this.itemId !== null ? { mediaId: this.itemId } : {}),
    };
  }

  /** Every UI tick: the clock, and the reactions the playhead crosses. */
  tick() {
    this.renderTime();
    if (this.player?.ready()) this.view.replay.tick(this.player.currentTime());
  }

  /** A new playback state: from the snapshot, a broadcast or our own command's ack. */
  applyPlayback(playback, { force = false } = {}) {
    if (!playback) return;
    const stale = this.playback && !force && playback.seq < this.playback.seq;
    if (stale) return; // an older state overtaken by a newer one
    this.playback = playback;
    if (playback.mediaId !== this.itemId) this.load(playback.mediaId);
    else this.sync?.setPlayback(playback);
    this.render();
  }

  /** The queue changed: a playback state that named an item we did not know can load it now. */
  queueChanged() {
    if (this.playback?.mediaId && this.itemId === null) this.load(this.playback.mediaId);
  }

  async load(mediaId) {
    const token = ++this.loadToken;
    this.destroy();
    this.itemId = mediaId;
    this.view.replay.setItem(this.view.room.id, mediaId);
    const item = this.view.queue.find((entry) => entry.id === mediaId);
    this.$("#player-empty").hidden = mediaId !== null;
    if (mediaId === null) return;
    if (!item) {
      this.itemId = null; // the queue update may lag the playback state: wait for it
      return;
    }
    this.$("#player-loading").hidden = false;
    let player;
    try {
      player = await createPlayer(this.$("#player-stage"), item);
    } catch (error) {
      console.warn("vmeste: cannot play", item, error);
      if (token === this.loadToken) this.fail("cannotPlay");
      return;
    }
    if (token !== this.loadToken) {
      player.destroy();
      return;
    }
    this.$("#player-loading").hidden = true;
    this.player = player;
    player.addEventListener("ended", () => {
      this.view.connection.request("player:ended", { roomId: this.view.room.id, mediaId }).catch(() => {});
    });
    player.addEventListener("change", () => this.render());
    // An error once loaded (YouTube reports "embedding not allowed" only after onReady).
    player.addEventListener("error", (event) => {
      console.warn("vmeste: cannot play", item, event.detail);
      if (this.player === player) {
        this.fail(EMBEDDING_REFUSED.has(event.detail?.code) ? "cannotEmbed" : "cannotPlay");
      }
    });
    this.sync = new SyncController({ player, clock: this.view.connection });
    this.sync.addEventListener("blocked", () => {
      this.$("#player-tap").hidden = false;
    });
    this.sync.setPlayback(this.playback);
    this.sync.start();
    this.render();
  }

  /** The item on screen cannot be played: say so in the player; the controls go quiet. */
  fail(reason) {
    this.sync?.stop();
    this.sync = null;
    this.player?.destroy();
    this.player = null;
    this.$("#player-stage").replaceChildren();
    this.$("#player-loading").hidden = true;
    this.$("#player-tap").hidden = true;
    this.failed = { reason };
    this.render();
  }

  destroy() {
    this.sync?.stop();
    this.sync = null;
    this.player?.destroy();
    this.player = null;
    this.itemId = null;
    this.failed = null;
    this.$("#player-stage").replaceChildren();
    this.$("#player-loading").hidden = true;
    this.$("#player-tap").hidden = true;
  }

  /** The page closed: forget the player and the playback. */
  reset() {
    this.loadToken += 1;
    this.destroy();
    this.playback = null;
    this.view.replay.setItem(null, null);
  }

  async command(event, payload = {}) {
    this.clientSeq += 1;
    try {
      const { playback } = await this.view.command(event, { ...payload, clientSeq: this.clientSeq });
      this.applyPlayback(playback);
      haptic("light");
    } catch (error) {
      haptic("error");
      toast(messageFor(error));
    }
  }

  /**
   * Inside a tap: start the player (autoplay rules allow it now); the controller then aligns it.
   * True when it started playback for a playing room.
   */
  unlock() {
    if (!this.player || !this.playback) return false;
    if (!this.player.paused()) return false;
    if (this.playback.status === "playing") {
      if (this.player.capabilities.seek) this.player.seek(this.roomPosition());
      if (this.sync) this.sync.playNow();
      else this.player.play().catch(() => {});
      return true;
    }
    // The room starts a moment from now; prime the player inside this tap (iOS web views
    // allow a later play() only on an element that was played from a gesture once).
    this.player.play().catch(() => {});
    this.player.pause();
    return false;
  }

  bind() {
    this.$("#control-play").addEventListener("click", () => {
      if (!this.canControl || !this.playback) return;
      if (this.playback.status === "playing") {
        this.command("player:pause", { position: this.roomPosition() });
      } else {
        // This tap is a user gesture: let the player start now that the page may play sound.
        this.unlock();
        this.command("player:play", { position: this.playback.position });
      }
    });
    const seek = this.$("#control-seek");
    seek.addEventListener("input", () => {
      this.seeking = true;
      this.$("#control-time").textContent = formatTime(Number(seek.value));
    });
    seek.addEventListener("change", () => {
      this.seeking = false;
      if (!this.canControl) return;
      this.command("player:seek", { position: Number(seek.value) });
    });
    this.$("#player-tap").addEventListener("click", () => {
      haptic("medium");
      this.$("#player-tap").hidden = true;
      // Started at the room position inside the tap: the controller aligns it from its next
      // tick; a resync now would seek and play it a second time before it reports playing.
      if (!this.unlock()) this.sync?.resync();
    });
    this.$("#control-resync").addEventListener("click", () => {
      haptic("light");
      this.$("#player-tap").hidden = true;
      this.unlock();
      this.view.connection.syncClock().catch(() => {});
      this.sync?.resync();
      toast(t("resynced"));
    });
    const rate = this.$("#control-rate");
    rate.addEventListener("change", () => {
      haptic("selection");
      if (!this.canControl) return;
      this.command("player:rate", { rate: Number(rate.value) }).then(() => {
        rate.blur();
        this.render(); // a refused rate goes back to the room's
      });
    });
  }

  render() {
    if (!this.view.room) return;
    const can = this.canControl;
    const playing = this.playback?.status === "playing";
    const play = this.$("#control-play");
    play.dataset.playing = String(playing);
    play.setAttribute("aria-label", playing ? t("pause") : t("play"));
    const playable = Boolean(this.playback?.mediaId) && !this.failed;
    const live = this.player && !this.player.capabilities.seek;
    play.disabled = !can || !playable;
    this.$("#control-seek").disabled = !can || !playable || Boolean(live);
    // The speeds this player can play at (YouTube: its fixed steps; Vimeo, Twitch: 1× only).
    const rate = this.$("#control-rate");
    const capabilities = this.player?.capabilities;
    let speeds = 0;
    for (const option of rate.options) {
      const supported = Boolean(capabilities) && supportsRate(capabilities, Number(option.value));
      option.hidden = !supported;
      option.disabled = !supported;
      speeds += supported ? 1 : 0;
    }
    rate.hidden = !can || !playable || Boolean(live) || speeds < 2;
    if (document.activeElement !== rate) rate.value = String(this.playback?.rate ?? 1);
    this.$("#controls-note").hidden = can;
    this.$("#controls").dataset.live = String(Boolean(live));
    this.renderError();
    this.renderTime();
  }

  renderError() {
    const overlay = this.$("#player-error");
    overlay.hidden = !this.failed;
    if (!this.failed) return;
    this.$("#player-error-text").textContent = t(this.failed.reason);
    // Whoever may change the queue can fix it; the others learn who can.
    this.$("#player-error-hint").textContent = t(
      this.view.can(Action.QUEUE) ? "cannotPlayYouCan" : "cannotPlayHostCan",
    );
  }

  renderTime() {
    if (!this.playback) return;
    const seek = this.$("#control-seek");
    if (this.failed) {
      seek.max = "0";
      seek.value = "0";
      seek.style.setProperty("--progress", "0%");
      this.$("#control-time").textContent = formatTime(0);
      this.$("#control-duration").textContent = formatTime(0);
      return;
    }
    const duration = this.player?.duration() ?? this.currentItem()?.duration ?? 0;
    const position = this.player?.ready() ? this.player.currentTime() : this.roomPosition();
    seek.max = String(duration || 0);
    if (!this.seeking) {
      seek.value = String(Math.min(position, duration || position));
      this.$("#control-time").textContent = formatTime(position);
    }
    seek.style.setProperty("--progress", duration ? `${(Number(seek.value) / duration) * 100}%` : "0%");
    // "Live" only for a live item (or a player that cannot seek); unknown so far: "0:00".
    const live = this.currentItem()?.isLive || (this.player && !this.player.capabilities.seek);
    this.$("#control-duration").textContent = duration ? formatTime(duration) : live ? t("live") : formatTime(0);
  }
}
