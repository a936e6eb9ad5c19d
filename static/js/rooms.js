// The rooms list on the home screen (mine, then public ones with search and a kind filter) and
// the create-room form (paste a link). Opening a room is the caller's job: onOpen(room).

import { h } from "./dom.js";
import { errorField, messageFor } from "./errors.js";
import { t } from "./i18n.js";
import { haptic } from "./telegram.js";
import { avatarElement } from "./ui.js";

const PAGE_SIZE = 20;
const SEARCH_DELAY_MS = 250;
const KIND_LABELS = { youtube: "YouTube", vimeo: "Vimeo", twitch: "Twitch", hls: "HLS", html5: null };

/** One room as a list row: avatar of the host, title, what is on, how many are watching. */
export function roomRow(room, onOpen) {
  const kind = KIND_LABELS[room.currentKind] ?? (room.currentKind ? t("kindVideo") : null);
  const playing = room.currentTitle ? `${kind ? `${kind} · ` : ""}${room.currentTitle}` : t("nothingPlaying");
  const lock =
    room.visibility === "private"
      ? [" ", h("span", { class: "list__lock", "aria-label": t("privateRoom") }, "🔒")]
      : null;
  const onclick = () => {
    haptic("light");
    onOpen(room);
  };
  return h(
    "li",
    {},
    h(
      "button",
      { type: "button", class: "list__row", dataset: { roomCode: room.code }, onclick },
      avatarElement(room.host, "small"),
      h(
        "span",
        { class: "list__text" },
        h("span", { class: "list__title" }, room.title, lock),
        h("span", { class: "list__subtitle" }, playing),
      ),
      h("span", { class: "list__count" }, t("watchingCount", { count: room.memberCount })),
    ),
  );
}

/**
 * Whether a public room is worth listing: someone is in it. Everyone left (the room stays open
 * for the host's grace period): it is not shown as if people were watching.
 */
export function isOccupied(room) {
  return room.memberCount > 0;
}

export class RoomsList {
  constructor(root, { api, onOpen }) {
    this.api = api;
    this.onOpen = onOpen;
    this.root = root;
    this.query = "";
    this.kind = "";
    this.offset = 0;
    this.requestId = 0;
    this.search = root.querySelector("#rooms-search");
    this.more = root.querySelector("#public-rooms-more");
    let timer = null;
    this.search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        this.query = this.search.value.trim();
        this.loadPublic();
      }, SEARCH_DELAY_MS);
    });
    for (const chip of root.querySelectorAll("#rooms-kind .chip")) {
      chip.addEventListener("click", () => {
        if (chip.dataset.kind === this.kind) return;
        haptic("selection");
        this.kind = chip.dataset.kind;
        for (const other of root.querySelectorAll("#rooms-kind .chip")) {
          other.setAttribute("aria-checked", String(other === chip));
        }
        this.loadPublic();
      });
    }
    this.more.addEventListener("click", () => this.loadPublic({ append: true }));
  }

  refresh() {
    return Promise.all([this.loadMine(), this.loadPublic()]);
  }

  async loadMine() {
    const list = this.root.querySelector("#my-rooms");
    try {
      const { rooms } = await this.api.get("/api/rooms/mine");
      list.replaceChildren(...rooms.map((room) => roomRow(room, this.onOpen)));
      this.root.querySelector("#my-rooms-section").hidden = rooms.length === 0;
    } catch (error) {
      console.warn("vmeste: my rooms", error);
    }
  }

  async loadPublic({ append = false } = {}) {
    const list = this.root.querySelector("#public-rooms");
    const empty = this.root.querySelector("#public-rooms-empty");
    const requestId = ++this.requestId;
    this.offset = append ? this.offset : 0;
    const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(this.offset) });
    if (this.query) params.set("query", this.query);
    if (this.kind) params.set("kind", this.kind);
    list.setAttribute("aria-busy", "true");
    try {
      const { rooms, total } = await this.api.get(`/api/rooms?${params}`);
      if (requestId !== this.requestId) return; // a newer search won
      const rows = rooms.filter(isOccupied).map((room) => roomRow(room, this.onOpen));
      if (append) list.append(...rows);
      else list.replaceChildren(...rows);
      this.offset += rooms.length;
      list.hidden = list.children.length === 0;
      empty.textContent = this.query || this.kind ? t("noRoomsFound") : t("noRoomsYet");
      empty.hidden = list.children.length > 0;
      this.more.hidden = this.offset >= total;
    } catch (error) {
      if (requestId !== this.requestId) return;
      list.hidden = true;
      empty.hidden = false;
      empty.textContent = messageFor(error);
    } finally {
      list.removeAttribute("aria-busy");
    }
  }
}

/** The create-room form; onCreated(room) once the server made it (the host has joined). */
export class CreateRoomForm {
  constructor(form, { api, onCreated }) {
    this.form = form;
    this.api = api;
    this.onCreated = onCreated;
    this.busy = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    for (const input of form.querySelectorAll(".field__input")) {
      input.addEventListener("input", () => this.setFieldError(input.name, ""));
    }
  }

  reset() {
    this.form.reset();
    this.setFieldError("url", "");
    this.setFieldError("title", "");
    this.form.querySelector("#create-error").textContent = "";
  }

  focus() {
    this.form.querySelector("#create-url").focus();
  }

  setFieldError(name, message) {
    const input = this.form.elements.namedItem(name);
    const error = this.form.querySelector(`#create-${name}-error`);
    if (!input || !error) return false;
    error.textContent = message;
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    return true;
  }

  values() {
    const data = new FormData(this.form);
    const body = {
      visibility: data.get("visibility"),
      controlMode: data.get("controlMode"),
    };
    const url = String(data.get("url") ?? "").trim();
    const title = String(data.get("title") ?? "").trim();
    if (url) body.url = url;
    if (title) body.title = title;
    return body;
  }

  async submit() {
    if (this.busy) return;
    const body = this.values();
    if (body.url && !/^https?:\/\/\S+$/i.test(body.url)) {
      this.setFieldError("url", t("linkInvalid"));
      this.form.querySelector("#create-url").focus();
      haptic("error");
      return;
    }
    this.busy = true;
    const submit = this.form.querySelector("#create-submit");
    submit.disabled = true;
    this.form.querySelector("#create-error").textContent = "";
    try {
      const { room } = await this.api.post("/api/rooms", body);
      haptic("success");
      this.onCreated(room);
    } catch (error) {
      haptic("error");
      const field = errorField(error);
      const message = field === "url" ? t("linkUnsupported") : messageFor(error);
      if (!field || !this.setFieldError(field, message)) {
        this.form.querySelector("#create-error").textContent = message;
      }
    } finally {
      this.busy = false;
      submit.disabled = false;
    }
  }
}
