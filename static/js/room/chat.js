// The room chat: a message list (text, and system lines like "joined" or "now playing") and
// the composer. Sending goes through `send(text)`, which returns a promise of the message;
// deleting through `remove(messageId)`, offered where `canDelete(message)` says so (one's own;
// others' and system lines as the room's permissions allow); a deleted message stays as a
// tombstone.

import { h } from "../dom.js";
import { messageFor } from "../errors.js";
import { config, t } from "../i18n.js";
import { confirmAction, haptic } from "../telegram.js";
import { avatarElement, formatClock, toast } from "../ui.js";

const MAX_MESSAGES = 200;
const TRASH_ICON =
  '<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><path d="M5 7h14M10 11v6M14 11v6' +
  'M6.5 7l.8 12a2 2 0 0 0 2 1.9h5.4a2 2 0 0 0 2-1.9l.8-12M9.5 7V4.5h5V7" fill="none" stroke="currentColor"' +
  ' stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/></svg>';

/**
 * The line shown for a system message (kind other than "text"); `giftName(id)` names a gift in
 * the page's language ("gift": data {userId, name, gift, emoji, toUserId, toName}).
 */
function systemText(message, giftName) {
  // System messages carry the person in data ({userId, name}); text is an English fallback.
  const name = message.data?.name ?? message.user?.displayName ?? "";
  switch (message.kind) {
    case "joined":
      return t("chatJoined", { name });
    case "left":
      return t("chatLeft", { name });
    case "kicked":
      return t("chatKicked", { name });
    case "gift": {
      const gift = `${message.data?.emoji ?? "🎁"} ${giftName(message.data?.gift) ?? message.data?.gift ?? ""}`.trim();
      return t("chatGift", { name, toName: message.data?.toName ?? "", gift });
    }
    case "now_playing":
      return message.data?.title ? t("chatNowPlaying", { title: message.data.title }) : message.text;
    default:
      return message.text ?? "";
  }
}

export class ChatView {
  constructor(root, { send, remove, canDelete, me, giftName = () => null }) {
    this.list = root.querySelector("#chat-messages");
    this.form = root.querySelector("#chat-form");
    this.input = root.querySelector("#chat-input");
    this.error = root.querySelector("#chat-error");
    this.send = send;
    this.remove = remove;
    this.canDelete = canDelete;
    this.giftName = giftName;
    this.me = me;
    this.ids = new Set();
    this.messages = new Map(); // id → message shown, for the permission checks
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  reset(messages) {
    this.ids.clear();
    this.messages.clear();
    this.list.replaceChildren();
    for (const message of messages) this.add(message, { scroll: false });
    this.scrollToEnd();
  }

  add(message, { scroll = true } = {}) {
    if (this.ids.has(message.id)) return; // our own message arrives by ack and by broadcast
    this.ids.add(message.id);
    this.messages.set(message.id, message);
    this.list.append(this.render(message));
    while (this.list.children.length > MAX_MESSAGES) {
      const id = Number(this.list.firstElementChild.dataset.id);
      this.ids.delete(id);
      this.messages.delete(id);
      this.list.firstElementChild.remove();
    }
    if (scroll) this.scrollToEnd();
  }

  markDeleted(messageId) {
    const item = this.list.querySelector(`[data-id="${CSS.escape(String(messageId))}"]`);
    if (!item) return;
    item.querySelector(".chat__delete")?.remove();
    if (item.classList.contains("chat__system")) {
      item.querySelector(".chat__system-text").textContent = t("chatDeleted");
      return;
    }
    item.classList.add("chat__message--deleted");
    const text = item.querySelector(".chat__text");
    if (text) text.textContent = t("chatDeleted");
  }

  /** Show the delete buttons where the user may delete (after a role change). */
  updatePermissions() {
    for (const button of this.list.querySelectorAll(".chat__delete")) {
      const message = this.messages.get(Number(button.closest("li").dataset.id));
      button.hidden = !message || !this.canDelete(message);
    }
  }

  async deleteMessage(messageId) {
    haptic("light");
    if (!(await confirmAction(t("deleteMessageConfirm")))) return;
    try {
      await this.remove(messageId);
      this.markDeleted(messageId);
      haptic("success");
    } catch (error) {
      haptic("error");
      // Already gone (deleted by someone else a moment ago): show it as deleted.
      if (error.code === "not_found") this.markDeleted(messageId);
      else toast(messageFor(error));
    }
  }

  render(message) {
    const id = String(message.id);
    if (message.kind !== "text") {
      return h(
        "li",
        { class: "chat__system", dataset: { id } },
        h("span", { class: "chat__system-text" }, message.deleted ? t("chatDeleted") : systemText(message, this.giftName)),
        message.deleted ? null : this.deleteButton(message),
      );
    }
    const mine = message.user?.id === this.me.id;
    return h(
      "li",
      {
        class: `chat__message${mine ? " chat__message--mine" : ""}${message.deleted ? " chat__message--deleted" : ""}`,
        dataset: { id, ...(message.user ? { userId: String(message.user.id) } : {}) },
      },
      mine ? null : avatarElement(message.user, "tiny"),
      h(
        "div",
        { class: "chat__bubble" },
        mine ? null : h("span", { class: "chat__author" }, message.user?.displayName ?? ""),
        h("span", { class: "chat__text" }, message.deleted ? t("chatDeleted") : message.text),
        h(
          "time",
          { class: "chat__time", dateTime: message.createdAt },
          formatClock(message.createdAt, config.locale),
        ),
      ),
      message.deleted ? null : this.deleteButton(message),
    );
  }

  deleteButton(message) {
    const button = h("button", {
      type: "button",
      class: "icon-button icon-button--small chat__delete",
      "aria-label": t("deleteMessage"),
      title: t("deleteMessage"),
      hidden: !this.canDelete(message),
      onclick: () => this.deleteMessage(message.id),
    });
    button.innerHTML = TRASH_ICON; // a constant, never user text
    return button;
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
