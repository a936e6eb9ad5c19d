// The room chat: a message list (text, and system lines like "joined" or "now playing") and
// the composer. Sending goes through `send(text)`, which returns a promise of the message.

import { messageFor } from "./errors.js";
import { config, t } from "./i18n.js";
import { haptic } from "./telegram.js";
import { avatarElement, formatClock } from "./ui.js";

const MAX_MESSAGES = 200;

/** The line shown for a system message (kind other than "text"). */
function systemText(message) {
  // System messages carry the person in data ({userId, name}); text is an English fallback.
  const name = message.data?.name ?? message.user?.displayName ?? "";
  switch (message.kind) {
    case "joined":
      return t("chatJoined", { name });
    case "left":
      return t("chatLeft", { name });
    case "kicked":
      return t("chatKicked", { name });
    case "now_playing":
      return message.data?.title ? t("chatNowPlaying", { title: message.data.title }) : message.text;
    default:
      return message.text ?? "";
  }
}

export class ChatView {
  constructor(root, { send, me }) {
    this.list = root.querySelector("#chat-messages");
    this.form = root.querySelector("#chat-form");
    this.input = root.querySelector("#chat-input");
    this.error = root.querySelector("#chat-error");
    this.send = send;
    this.me = me;
    this.ids = new Set();
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  reset(messages) {
    this.ids.clear();
    this.list.replaceChildren();
    for (const message of messages) this.add(message, { scroll: false });
    this.scrollToEnd();
  }

  add(message, { scroll = true } = {}) {
    if (this.ids.has(message.id)) return; // our own message arrives by ack and by broadcast
    this.ids.add(message.id);
    this.list.append(this.render(message));
    while (this.list.children.length > MAX_MESSAGES) {
      this.ids.delete(Number(this.list.firstElementChild.dataset.id));
      this.list.firstElementChild.remove();
    }
    if (scroll) this.scrollToEnd();
  }

  markDeleted(messageId) {
    const item = this.list.querySelector(`[data-id="${CSS.escape(String(messageId))}"]`);
    if (!item) return;
    item.classList.add("chat__message--deleted");
    const text = item.querySelector(".chat__text");
    if (text) text.textContent = t("chatDeleted");
  }

  render(message) {
    const item = document.createElement("li");
    item.dataset.id = String(message.id);
    if (message.kind !== "text") {
      item.className = "chat__system";
      item.textContent = systemText(message);
      return item;
    }
    const mine = message.user?.id === this.me.id;
    item.className = `chat__message${mine ? " chat__message--mine" : ""}`;
    if (!mine) item.append(avatarElement(message.user, "tiny"));
    const bubble = document.createElement("div");
    bubble.className = "chat__bubble";
    if (!mine) {
      const author = document.createElement("span");
      author.className = "chat__author";
      author.textContent = message.user?.displayName ?? "";
      bubble.append(author);
    }
    const text = document.createElement("span");
    text.className = "chat__text";
    text.textContent = message.deleted ? t("chatDeleted") : message.text;
    const time = document.createElement("time");
    time.className = "chat__time";
    time.dateTime = message.createdAt;
    time.textContent = formatClock(message.createdAt, config.locale);
    bubble.append(text, time);
    item.append(bubble);
    if (message.deleted) item.classList.add("chat__message--deleted");
    return item;
  }

  scrollToEnd() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  async submit() {
    const text = this.input.value.trim();
    if (!text) return;
    this.error.textContent = "";
    this.input.value = "";
    try {
      const { message } = await this.send(text);
      this.add(message);
      haptic("light");
    } catch (error) {
      this.input.value = text; // give it back so nothing typed is lost
      this.error.textContent = messageFor(error);
      haptic("error");
    }
  }
}
