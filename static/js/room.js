// The room page: join (REST, then the socket's room:join snapshot), the player kept in sync by
// SyncController, playback controls (who may use them follows the room's control mode), chat,
// reactions (live, and replayed at their media time), participants with the host's actions,
// the queue, settings and sharing.
//
// Echo suppression (docs/rooms-protocol.md): the server does not send us the room:state our own
// command caused; the command's ack carries that state and is applied like any other.

import { ApiError } from "./api.js";
import { ChatView } from "./chat.js";
import { messageFor } from "./errors.js";
import { config, t } from "./i18n.js";
import { createPlayer, supportsRate } from "./players/index.js";
import { Reactions } from "./reactions.js";
import { ReactionReplay } from "./replay.js";
import { expectedPosition, SyncController } from "./sync.js";
import {
  confirmAction,
  haptic,
  isInsideTelegram,
  openTelegramLink,
  shareMessage,
  showBackButton,
} from "./telegram.js";
import { avatarElement, copyText, formatTime, toast } from "./ui.js";

const UI_TICK_MS = 250;
const UNWATCH_TIMEOUT_MS = 1500; // room:unwatch is a courtesy: never wait long for its ack
const ROLE_LABELS = { host: "roleHost", moderator: "roleModerator" };

/** Parse a start_param "room_<code>" or "room_<code>_<invite>" (invite codes may contain "_"). */
export function parseRoomStartParam(param) {
  const match = /^room_([A-Za-z0-9]{8})(?:_([A-Za-z0-9_-]+))?$/.exec(param ?? "");
  return match ? { code: match[1], invite: match[2] ?? null } : null;
}

/** The link that opens this room: the Mini App through the bot when there is one. */
export function roomLink(room) {
  const invite = room.visibility === "private" ? room.inviteCode : null;
  if (config.botUsername) {
    const param = `room_${room.code}${invite ? `_${invite}` : ""}`;
    return `https://t.me/${config.botUsername}?startapp=${param}`;
  }
  const base = config.publicUrl || window.location.origin;
  const url = new URL(`/app/room/${room.code}`, base);
  if (invite) url.searchParams.set("invite", invite);
  return url.href;
}

export class RoomView {
  constructor(root, { api, onExit }) {
    this.root = root;
    this.api = api;
    this.connection = null; // set by attach() before open()
    this.me = null;
    this.onExit = onExit;
    this.room = null;
    this.invite = null;
    this.queue = [];
    this.playback = null;
    this.participants = new Map(); // user id → {user, role}
    this.player = null;
    this.playerItemId = null;
    this.sync = null;
    this.loadToken = 0;
    this.clientSeq = 0;
    this.seeking = false;
    this.offs = [];
    this.timer = null;
    this.hideBack = () => {};
    this.$ = (selector) => root.querySelector(selector);

    this.chat = new ChatView(root, {
      me: null,
      send: (text) => this.command("chat:send", { text }),
      remove: (messageId) => this.command("chat:delete", { messageId }),
      canDelete: (authorId) => this.mayDeleteMessagesOf(authorId),
    });
    this.reactions = new Reactions(root, {
      // With the item on screen: should the room have moved on, nothing is stored.
      send: (emoji) =>
        this.command("reaction:send", {
          emoji,
          mediaTime: this.player?.currentTime() ?? 0,
          ...(this.playerItemId !== null ? { mediaId: this.playerItemId } : {}),
        }),
    });
    this.replay = new ReactionReplay({ api, reactions: this.reactions });
    this.bindControls();
  }

  // --- opening and closing ----------------------------------------------------------------

  /** The signed-in user and their socket (both change on sign-out and sign-in). */
  attach({ connection, me }) {
    this.connection = connection;
    this.me = me;
    this.chat.me = me;
  }

  /** Fetch, join and show the room `code`; rejects with an ApiError (not found, forbidden...). */
  async open({ code, invite = null }) {
    this.invite = invite;
    const query = invite ? `?invite=${encodeURIComponent(invite)}` : "";
    const data = await this.api.get(`/api/rooms/${encodeURIComponent(code)}${query}`);
    let { room } = data;
    if (!room.myRole) {
      ({ room } = await this.api.post(`/api/rooms/${room.id}/join`, invite ? { inviteCode: invite } : {}));
    }
    this.room = room;
    this.queue = data.queue ?? [];
    this.participants = new Map((data.members ?? []).map((m) => [m.user.id, m]));
    this.renderAll();
    this.applyPlayback(data.playback, { force: true });
    this.listen();
    this.hideBack = showBackButton(() => this.exit());
    this.timer = setInterval(() => {
      this.renderTime();
      if (this.player?.ready()) this.replay.tick(this.player.currentTime());
    }, UI_TICK_MS);
    this.joinSocket();
  }

  /** Join over the socket now, and again after every reconnection (a fresh snapshot). */
  async joinSocket() {
    await this.connection.whenConnected();
    if (!this.room) return;
    try {
      const snapshot = await this.connection.request("room:join", {
        roomId: this.room.id,
        ...(this.invite ? { inviteCode: this.invite } : {}),
        ...(this.connection.clockRtt !== null ? { rtt: Math.round(this.connection.clockRtt) } : {}),
      });
      this.applySnapshot(snapshot);
    } catch (error) {
      console.warn("vmeste: room:join failed", error);
      if (error.code === "forbidden" || error.code === "not_found") {
        this.exit(messageFor(error), { unwatch: false });
      } else {
        toast(messageFor(error));
      }
    }
  }

  applySnapshot({ room, queue, playback, participants, messages }) {
    if (room) this.room = { ...this.room, ...room };
    if (queue) this.queue = queue;
    if (participants) this.participants = new Map(participants.map((p) => [p.user.id, p]));
    if (messages) this.chat.reset(messages);
    this.renderAll();
    if (playback) this.applyPlayback(playback, { force: true });
  }

  listen() {
    const on = (name, handler) => {
      this.offs.push(
        this.connection.on(name, (payload) => {
          if (this.room && payload?.roomId === this.room.id) handler(payload);
        }),
      );
    };
    on("room:state", ({ playback }) => this.applyPlayback(playback));
    on("queue:updated", ({ queue }) => {
      this.queue = queue;
      this.renderQueue();
      // A playback state that named an item we did not know yet can load it now.
      if (this.playback?.mediaId && this.playerItemId === null) this.loadMedia(this.playback.mediaId);
    });
    on("participant:joined", ({ user, role }) => {
      this.participants.set(user.id, { user, role, online: true });
      this.renderPeople();
    });
    on("participant:left", ({ userId }) => {
      this.participants.delete(userId);
      this.renderPeople();
    });
    on("participant:role", ({ userId, role }) => {
      const participant = this.participants.get(userId);
      if (participant) participant.role = role;
      if (userId === this.me.id) this.room.myRole = role;
      if (role === "host") {
        this.room.host = participant?.user ?? this.room.host;
        for (const other of this.participants.values()) {
          if (other.user.id !== userId && other.role === "host") other.role = "member";
        }
        if (userId !== this.me.id && this.room.myRole === "host") this.room.myRole = "member";
      }
      this.renderAll();
    });
    on("room:updated", (changes) => {
      const { roomId, ...rest } = changes;
      this.room = { ...this.room, ...rest };
      this.renderAll();
    });
    on("chat:message", (message) => this.chat.add(message));
    on("chat:deleted", ({ messageId }) => this.chat.markDeleted(messageId));
    on("reaction", (reaction) => this.reactions.show(reaction));
    on("room:closed", () => this.exit(t("roomClosed"), { unwatch: false }));
    on("room:kicked", () => this.exit(t("youWereRemoved"), { unwatch: false }));
    const reportRtt = () => {
      if (this.room && this.connection.clockRtt !== null) {
        const rtt = Math.round(this.connection.clockRtt);
        this.connection.request("presence:rtt", { roomId: this.room.id, rtt }).catch(() => {});
      }
    };
    this.connection.addEventListener("clocksync", reportRtt);
    this.offs.push(() => this.connection.removeEventListener("clocksync", reportRtt));
    const rejoin = () => this.joinSocket();
    this.connection.addEventListener("connect", rejoin);
    this.offs.push(() => this.connection.removeEventListener("connect", rejoin));
  }

  /**
   * Leave the page (not the room): stop the player and listeners. `unwatch` tells the server
   * this connection no longer watches (room:unwatch: presence drops, membership stays); not
   * waited for, so navigation never hangs on it.
   */
  close({ unwatch = true } = {}) {
    if (!this.room) return;
    if (unwatch) {
      this.connection
        ?.request("room:unwatch", { roomId: this.room.id }, { timeout: UNWATCH_TIMEOUT_MS })
        .catch(() => {});
    }
    for (const off of this.offs) off();
    this.offs = [];
    clearInterval(this.timer);
    this.hideBack();
    this.hideBack = () => {};
    this.destroyPlayer();
    this.replay.setItem(null, null);
    // Not room:leave: that ends the membership. Going back to the list keeps the room in
    // "My rooms"; only the "Leave the room" button leaves it.
    this.room = null;
  }

  exit(message, { unwatch = true } = {}) {
    this.close({ unwatch });
    if (message) toast(message);
    this.onExit(message);
  }

  // --- playback ---------------------------------------------------------------------------

  get canControl() {
    if (!this.room) return false;
    return this.moderates || this.room.controlMode === "everyone";
  }

  /** Host or moderator. */
  get moderates() {
    const role = this.room?.myRole;
    return role === "host" || role === "moderator";
  }

  /** One's own messages; the host anyone's; a moderator those of members (as kicks go). */
  mayDeleteMessagesOf(authorId) {
    if (!this.room || !this.me) return false;
    if (authorId === this.me.id || this.room.myRole === "host") return true;
    if (this.room.myRole !== "moderator" || authorId === this.room.host?.id) return false;
    return (this.participants.get(authorId)?.role ?? "member") === "member";
  }

  /** A new playback state: from the snapshot, a broadcast or our own command's ack. */
  applyPlayback(playback, { force = false } = {}) {
    if (!playback) return;
    const stale = this.playback && !force && playback.seq < this.playback.seq;
    if (stale) return; // an older state overtaken by a newer one
    this.playback = playback;
    if (playback.mediaId !== this.playerItemId) this.loadMedia(playback.mediaId);
    else this.sync?.setPlayback(playback);
    this.renderControls();
  }

  async loadMedia(mediaId) {
    const token = ++this.loadToken;
    this.destroyPlayer();
    this.playerItemId = mediaId;
    this.replay.setItem(this.room.id, mediaId);
    const item = this.queue.find((entry) => entry.id === mediaId);
    this.$("#player-empty").hidden = mediaId !== null;
    if (mediaId === null) return;
    this.$("#player-loading").hidden = false;
    if (!item) {
      // The queue update may lag the playback state: wait for it.
      this.playerItemId = null;
      this.$("#player-loading").hidden = true;
      return;
    }
    let player;
    try {
      player = await createPlayer(this.$("#player-stage"), item);
    } catch (error) {
      console.warn("vmeste: cannot play", item, error);
      if (token === this.loadToken) {
        this.$("#player-loading").hidden = true;
        toast(t("cannotPlay"));
      }
      return;
    }
    if (token !== this.loadToken) {
      player.destroy();
      return;
    }
    this.$("#player-loading").hidden = true;
    this.player = player;
    player.addEventListener("ended", () => {
      this.connection.request("player:ended", { roomId: this.room.id, mediaId }).catch(() => {});
    });
    player.addEventListener("change", () => this.renderControls());
    // An error once loaded (YouTube reports "embedding not allowed" only after onReady).
    player.addEventListener("error", (event) => {
      console.warn("vmeste: cannot play", item, event.detail);
      // YouTube 101 and 150: the owner does not allow embedding.
      const embedding = [101, 150].includes(event.detail?.code);
      if (this.player === player) toast(t(embedding ? "cannotEmbed" : "cannotPlay"));
    });
    this.sync = new SyncController({ player, clock: this.connection });
    this.sync.addEventListener("blocked", () => {
      this.$("#player-tap").hidden = false;
    });
    this.sync.setPlayback(this.playback);
    this.sync.start();
    this.renderControls();
  }

  destroyPlayer() {
    this.sync?.stop();
    this.sync = null;
    this.player?.destroy();
    this.player = null;
    this.playerItemId = null;
    this.$("#player-tap").hidden = true;
  }

  /** The position the room is at now (seconds). */
  roomPosition() {
    return expectedPosition(this.playback, this.connection.serverNow());
  }

  /** A socket command for this room; resolves to the ack (errors are thrown as ApiError). */
  async command(event, payload = {}) {
    try {
      return await this.connection.request(event, { roomId: this.room.id, ...payload });
    } catch (error) {
      throw new ApiError({ code: error.code, message: error.message, details: error.details });
    }
  }

  async playbackCommand(event, payload = {}) {
    this.clientSeq += 1;
    try {
      const { playback } = await this.command(event, { ...payload, clientSeq: this.clientSeq });
      this.applyPlayback(playback);
      haptic("light");
    } catch (error) {
      haptic("error");
      toast(messageFor(error));
    }
  }

  bindControls() {
    const playButton = this.$("#control-play");
    playButton.addEventListener("click", () => {
      if (!this.canControl || !this.playback) return;
      if (this.playback.status === "playing") {
        this.playbackCommand("player:pause", { position: this.roomPosition() });
      } else {
        // This tap is a user gesture: let the player start now that the page may play sound.
        this.unlockPlayer();
        this.playbackCommand("player:play", { position: this.playback.position });
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
      this.playbackCommand("player:seek", { position: Number(seek.value) });
    });
    this.$("#player-tap").addEventListener("click", () => {
      haptic("medium");
      this.$("#player-tap").hidden = true;
      // Started at the room position inside the tap: the controller aligns it from its next
      // tick; a resync now would seek and play it a second time before it reports playing.
      if (!this.unlockPlayer()) this.sync?.resync();
    });
    this.$("#control-resync").addEventListener("click", () => {
      haptic("light");
      this.$("#player-tap").hidden = true;
      this.unlockPlayer();
      this.connection.syncClock().catch(() => {});
      this.sync?.resync();
      toast(t("resynced"));
    });
    const rate = this.$("#control-rate");
    rate.addEventListener("change", () => {
      haptic("selection");
      if (!this.canControl) return;
      this.playbackCommand("player:rate", { rate: Number(rate.value) }).then(() => {
        rate.blur();
        this.renderControls(); // a refused rate goes back to the room's
      });
    });
    const back = this.$("#room-back");
    back.hidden = isInsideTelegram(); // Telegram's own back button does it there
    back.addEventListener("click", () => {
      haptic("light");
      this.exit();
    });
    this.bindTabs();
    this.bindQueue();
    this.bindSettings();
    this.$("#room-share").addEventListener("click", () => this.share());
    this.$("#room-leave").addEventListener("click", () => this.leave());
  }

  /**
   * Inside a tap: start the player (autoplay rules allow it now); the controller then aligns it.
   * True when it started playback for a playing room.
   */
  unlockPlayer() {
    if (!this.player || !this.playback) return false;
    if (!this.player.paused()) return false;
    if (this.playback.status === "playing") {
      if (this.player.capabilities.seek) this.player.seek(this.roomPosition());
      if (this.sync) this.sync.playNow();
      else this.player.play().catch(() => {});
      return true;
    } else {
      // The room starts a moment from now; prime the player inside this tap (iOS web views
      // allow a later play() only on an element that was played from a gesture once).
      this.player.play().catch(() => {});
      this.player.pause();
      return false;
    }
  }

  // --- rendering --------------------------------------------------------------------------

  renderAll() {
    this.renderHeader();
    this.renderControls();
    this.renderPeople();
    this.renderQueue();
    this.renderSettings();
  }

  renderHeader() {
    const { room } = this;
    this.$("#room-title").textContent = room.title;
    document.title = `${room.title} · ${t("appName")}`;
    const online = this.participants.size || room.memberCount || 1;
    const parts = [t("watchingCount", { count: online })];
    if (room.visibility === "private") parts.push(t("privateRoom"));
    if (room.slowModeSeconds) parts.push(t("slowModeOn", { seconds: room.slowModeSeconds }));
    this.$("#room-meta").textContent = parts.join(" · ");
  }

  renderControls() {
    const can = this.canControl;
    const playing = this.playback?.status === "playing";
    const play = this.$("#control-play");
    play.dataset.playing = String(playing);
    play.setAttribute("aria-label", playing ? t("pause") : t("play"));
    const hasMedia = Boolean(this.playback?.mediaId);
    const live = this.player && !this.player.capabilities.seek;
    play.disabled = !can || !hasMedia;
    this.$("#control-seek").disabled = !can || !hasMedia || Boolean(live);
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
    rate.hidden = !can || !hasMedia || Boolean(live) || speeds < 2;
    if (document.activeElement !== rate) rate.value = String(this.playback?.rate ?? 1);
    this.$("#controls-note").hidden = can;
    this.$("#controls").dataset.live = String(Boolean(live));
    this.renderTime();
  }

  renderTime() {
    if (!this.playback) return;
    const duration = this.player?.duration() ?? this.currentItem()?.duration ?? 0;
    const position = this.player?.ready() ? this.player.currentTime() : this.roomPosition();
    const seek = this.$("#control-seek");
    seek.max = String(duration || 0);
    if (!this.seeking) {
      seek.value = String(Math.min(position, duration || position));
      this.$("#control-time").textContent = formatTime(position);
    }
    seek.style.setProperty("--progress", duration ? `${(Number(seek.value) / duration) * 100}%` : "0%");
    this.$("#control-duration").textContent = duration ? formatTime(duration) : t("live");
  }

  currentItem() {
    return this.queue.find((item) => item.id === this.playback?.mediaId) ?? null;
  }

  renderPeople() {
    const list = this.$("#participants");
    const people = [...this.participants.values()].sort(
      (a, b) => rank(b.role) - rank(a.role) || a.user.displayName.localeCompare(b.user.displayName),
    );
    this.$("#people-count").textContent = String(people.length || "");
    list.replaceChildren(...people.map((person) => this.personRow(person)));
    if (this.room) this.renderHeader();
    this.chat.updatePermissions(); // who may delete whose messages follows the roles
  }

  personRow({ user, role }) {
    const item = document.createElement("li");
    item.className = "person";
    item.dataset.userId = String(user.id);
    const row = document.createElement("div");
    row.className = "list__row";
    const text = document.createElement("span");
    text.className = "list__text";
    const name = document.createElement("span");
    name.className = "list__title";
    name.textContent = user.id === this.me.id ? t("youName", { name: user.displayName }) : user.displayName;
    text.append(name);
    const handle = user.username ?? user.telegramUsername;
    if (handle) {
      const subtitle = document.createElement("span");
      subtitle.className = "list__subtitle";
      subtitle.textContent = `@${handle}`;
      text.append(subtitle);
    }
    row.append(avatarElement(user, "small"), text);
    if (ROLE_LABELS[role]) {
      const badge = document.createElement("span");
      badge.className = `role role--${role}`;
      badge.textContent = t(ROLE_LABELS[role]);
      row.append(badge);
    }
    item.append(row);
    const actions = this.personActions(user, role);
    if (actions.length) {
      const bar = document.createElement("div");
      bar.className = "person__actions";
      bar.append(...actions);
      item.append(bar);
    }
    return item;
  }

  personActions(user, role) {
    const myRole = this.room?.myRole;
    if (user.id === this.me.id || role === "host") return [];
    const actions = [];
    const action = (label, handler, destructive = false) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `chip${destructive ? " chip--destructive" : ""}`;
      button.textContent = label;
      button.addEventListener("click", handler);
      actions.push(button);
    };
    const base = `/api/rooms/${this.room.id}`;
    if (myRole === "host") {
      if (role === "moderator") {
        action(t("removeModerator"), () => this.rest("DELETE", `${base}/moderators/${user.id}`));
      } else {
        action(t("makeModerator"), () => this.rest("POST", `${base}/moderators/${user.id}`));
      }
      action(t("makeHost"), async () => {
        if (await confirmAction(t("makeHostConfirm", { name: user.displayName }))) {
          this.rest("POST", `${base}/handover`, { user_id: user.id });
        }
      });
    }
    if ((myRole === "host" || myRole === "moderator") && role === "member") {
      action(
        t("kick"),
        async () => {
          if (await confirmAction(t("kickConfirm", { name: user.displayName }))) {
            this.rest("POST", `${base}/kick/${user.id}`);
          }
        },
        true,
      );
    }
    return actions;
  }

  /** A REST call for a host action; its effects come back as socket events. */
  async rest(method, path, body) {
    try {
      const result = await this.api.request(method, path, body);
      haptic("success");
      return result;
    } catch (error) {
      haptic("error");
      toast(messageFor(error));
      return null;
    }
  }

  renderQueue() {
    const list = this.$("#queue");
    const can = this.canControl;
    const upcoming = this.queue.filter((item) => item.id !== this.playback?.mediaId);
    const rows = this.queue.map((item) => {
      const li = document.createElement("li");
      li.dataset.mediaId = String(item.id);
      const row = document.createElement("div");
      row.className = "list__row";
      if (item.id === this.playback?.mediaId) row.classList.add("list__row--current");
      const text = document.createElement("span");
      text.className = "list__text";
      const title = document.createElement("span");
      title.className = "list__title";
      title.textContent = item.title;
      const subtitle = document.createElement("span");
      subtitle.className = "list__subtitle";
      subtitle.textContent = [
        item.isLive ? t("live") : item.duration ? formatTime(item.duration) : null,
        item.addedBy ? t("addedBy", { name: item.addedBy.displayName }) : null,
      ]
        .filter(Boolean)
        .join(" · ");
      text.append(title, subtitle);
      row.append(text);
      if (can && item.id !== this.playback?.mediaId) {
        const play = document.createElement("button");
        play.type = "button";
        play.className = "chip";
        play.textContent = t("playNow");
        play.addEventListener("click", () => {
          this.unlockPlayer();
          this.command("player:load", { mediaId: item.id })
            .then(({ playback, queue }) => {
              if (queue) this.queue = queue;
              this.applyPlayback(playback);
              this.renderQueue();
            })
            .catch((error) => toast(messageFor(error)));
        });
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "icon-button icon-button--small";
        remove.setAttribute("aria-label", t("remove"));
        remove.textContent = "✕";
        remove.addEventListener("click", () => {
          this.command("queue:remove", { mediaId: item.id })
            .then(({ queue }) => {
              this.queue = queue;
              this.renderQueue();
            })
            .catch((error) => toast(messageFor(error)));
        });
        const index = upcoming.indexOf(item);
        const canMove = (step) => index + step >= 0 && index + step < upcoming.length;
        const move = (step) =>
          this.moveButton(step, canMove(step), () => this.moveInQueue(upcoming, index, step));
        row.append(move(-1), move(1), play, remove);
      }
      li.append(row);
      return li;
    });
    list.replaceChildren(...rows);
    list.hidden = rows.length === 0;
    this.$("#queue-empty").hidden = rows.length > 0;
    this.$("#queue-form").hidden = !can;
    this.$("#queue-next").hidden = !can;
    this.$("#queue-vote-skip").hidden = can || !this.playback?.mediaId;
  }

  /** "Move up" (step -1) or "Move down" (step 1) for an upcoming queue item. */
  moveButton(step, enabled, handler) {
    const label = t(step < 0 ? "moveUp" : "moveDown");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "icon-button icon-button--small queue__move";
    button.dataset.step = String(step);
    button.setAttribute("aria-label", label);
    button.title = label;
    button.textContent = step < 0 ? "↑" : "↓";
    button.disabled = !enabled;
    button.addEventListener("click", handler);
    return button;
  }

  /** Swap the upcoming item at `index` with its neighbour `step` (-1 up, 1 down). */
  async moveInQueue(upcoming, index, step) {
    const ids = upcoming.map((item) => item.id);
    [ids[index], ids[index + step]] = [ids[index + step], ids[index]];
    haptic("selection");
    try {
      const { queue } = await this.command("queue:reorder", { mediaIds: ids });
      this.queue = queue;
      this.renderQueue();
      // Keep the keyboard focus with the moved item (same direction, else the other one).
      const row = this.$(`#queue [data-media-id="${ids[index + step]}"]`);
      const buttons = [...(row?.querySelectorAll(".queue__move") ?? [])];
      const same = buttons.find((button) => button.dataset.step === String(step) && !button.disabled);
      (same ?? buttons.find((button) => !button.disabled))?.focus();
    } catch (error) {
      haptic("error");
      toast(messageFor(error));
    }
  }

  bindQueue() {
    this.$("#queue-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = this.$("#queue-url");
      const url = input.value.trim();
      if (!url) return;
      this.$("#queue-error").textContent = "";
      try {
        const { queue } = await this.command("queue:add", { url });
        input.value = "";
        this.queue = queue;
        this.renderQueue();
        haptic("success");
        // Nothing playing yet: start what was just added.
        if (!this.playback?.mediaId && queue.length) {
          const { playback } = await this.command("player:load", { mediaId: queue[queue.length - 1].id });
          this.applyPlayback(playback);
        }
      } catch (error) {
        haptic("error");
        this.$("#queue-error").textContent =
          error.details?.field === "url" ? t("linkUnsupported") : messageFor(error);
      }
    });
    this.$("#queue-next").addEventListener("click", () => {
      this.command("queue:next")
        .then(({ playback, queue }) => {
          if (queue) this.queue = queue;
          this.applyPlayback(playback);
          this.renderQueue();
        })
        .catch((error) => toast(messageFor(error)));
    });
    this.$("#queue-vote-skip").addEventListener("click", () => {
      this.command("queue:vote-skip")
        .then(({ votes, needed, skipped }) => {
          haptic("light");
          toast(skipped ? t("skipped") : t("skipVotes", { votes, needed }));
        })
        .catch((error) => toast(messageFor(error)));
    });
  }

  bindTabs() {
    const tabs = [...this.root.querySelectorAll(".room-tabs [role=tab]")];
    const select = (tab) => {
      for (const other of tabs) {
        const selected = other === tab;
        other.setAttribute("aria-selected", String(selected));
        other.tabIndex = selected ? 0 : -1;
        this.$(`#${other.getAttribute("aria-controls")}`).hidden = !selected;
      }
    };
    for (const tab of tabs) {
      tab.addEventListener("click", () => {
        haptic("selection");
        select(tab);
      });
    }
  }

  renderSettings() {
    const role = this.room?.myRole;
    const isHost = role === "host";
    const moderates = isHost || role === "moderator";
    const tab = this.$("#room-tab-settings");
    tab.hidden = !moderates;
    if (!moderates && tab.getAttribute("aria-selected") === "true") this.$("#room-tab-chat").click();
    const form = this.$("#room-settings");
    if (form.contains(document.activeElement)) return; // do not overwrite what is being edited
    form.elements.title.value = this.room.title;
    form.elements.visibility.value = this.room.visibility;
    form.elements.controlMode.value = this.room.controlMode;
    form.elements.slowModeSeconds.value = String(this.room.slowModeSeconds ?? 0);
    for (const element of form.querySelectorAll("input, select")) {
      element.disabled = element.name !== "slowModeSeconds" && !isHost;
    }
    this.$("#room-close").closest(".card").hidden = !isHost;
  }

  bindSettings() {
    const form = this.$("#room-settings");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      this.$("#settings-error").textContent = "";
      const body = { slowModeSeconds: Number(form.elements.slowModeSeconds.value) };
      if (this.room.myRole === "host") {
        body.title = form.elements.title.value.trim();
        body.visibility = form.elements.visibility.value;
        body.controlMode = form.elements.controlMode.value;
      }
      try {
        const { room } = await this.api.patch(`/api/rooms/${this.room.id}`, body);
        this.room = { ...this.room, ...room };
        document.activeElement?.blur();
        this.renderAll();
        haptic("success");
        toast(t("saved"));
      } catch (error) {
        haptic("error");
        this.$("#settings-error").textContent = messageFor(error);
      }
    });
    this.$("#room-close").addEventListener("click", async () => {
      if (!(await confirmAction(t("closeRoomConfirm")))) return;
      const result = await this.rest("POST", `/api/rooms/${this.room.id}/close`);
      if (result) this.exit(t("roomClosed"), { unwatch: false });
    });
  }

  // --- sharing and leaving ----------------------------------------------------------------

  async share() {
    haptic("light");
    const link = roomLink(this.room);
    if (isInsideTelegram()) {
      // A prepared inline message (the bot saves it) opens Telegram's own share sheet.
      try {
        const { id } = await this.api.post(`/api/rooms/${this.room.id}/share`, {});
        if (id && shareMessage(id)) return;
      } catch (error) {
        console.info("vmeste: no prepared share message", error);
      }
      const text = t("shareText", { title: this.room.title });
      const url = `https://t.me/share/url?url=${encodeURIComponent(link)}&text=${encodeURIComponent(text)}`;
      if (openTelegramLink(url)) return;
    }
    const copied = await copyText(link);
    toast(copied ? t("linkCopied") : link);
  }

  async leave() {
    const host = this.room.myRole === "host";
    if (!(await confirmAction(host ? t("leaveAsHostConfirm") : t("leaveConfirm")))) return;
    const result = await this.rest("POST", `/api/rooms/${this.room.id}/leave`);
    if (result) this.exit(undefined, { unwatch: false });
  }
}

function rank(role) {
  return { host: 2, moderator: 1 }[role] ?? 0;
}
