// In-app invitations: the server sends room:invited {roomId, roomCode, roomTitle, inviteCode,
// from} to user:<id> (docs/rooms-protocol.md). A banner shows it on any screen, with "Open"
// (the room, with its invite code) and a dismiss button.

import { h } from "./dom.js";
import { renderInto } from "./i18n.js";
import { haptic } from "./telegram.js";

export class InviteBanner {
  /** `onOpen(invite)` opens the room; `skip(invite)` is true when the invite needs no banner. */
  constructor(element, { onOpen, skip = () => false }) {
    this.element = element;
    this.text = element.querySelector(".invite-banner__text");
    this.onOpen = onOpen;
    this.skip = skip;
    this.invite = null;
    this.off = () => {};
    element.querySelector(".invite-banner__open").addEventListener("click", () => {
      const { invite } = this;
      this.hide();
      if (!invite) return;
      haptic("light");
      this.onOpen(invite);
    });
    element.querySelector(".invite-banner__dismiss").addEventListener("click", () => {
      haptic("light");
      this.hide();
    });
  }

  /** Listen on `connection` (a Connection, or null to stop). */
  watch(connection) {
    this.off();
    this.hide();
    this.off = connection ? connection.on("room:invited", (invite) => this.show(invite)) : () => {};
  }

  show(invite) {
    if (!invite?.roomCode || this.skip(invite)) return;
    this.invite = invite;
    renderInto(this.text, "invitedBy", {
      name: h("strong", {}, invite.from?.displayName ?? ""),
      title: h("strong", {}, invite.roomTitle ?? ""),
    });
    this.element.hidden = false;
    haptic("medium");
  }

  hide() {
    this.invite = null;
    this.element.hidden = true;
  }
}
