// The People tab: who is in the room now, by role, with the actions my role has on each
// (as the server's permissions say): moderators and handover for the host, kick for whoever
// outranks that person. Their effects come back as socket events.

import { t, renderInto } from "../i18n.js";
import { h } from "../dom.js";
import { Action } from "../permissions.js";
import { confirmAction } from "../telegram.js";
import { avatarElement } from "../ui.js";

const ROLE_LABELS = { host: "roleHost", moderator: "roleModerator" };
const RANK = { host: 2, moderator: 1 };

export class Participants {
  constructor(view) {
    this.view = view;
    this.list = view.$("#participants");
  }

  render() {
    const people = [...this.view.participants.values()].sort(
      (a, b) =>
        (RANK[b.role] ?? 0) - (RANK[a.role] ?? 0) || a.user.displayName.localeCompare(b.user.displayName),
    );
    this.view.$("#people-count").textContent = String(people.length || "");
    this.list.replaceChildren(...people.map((person) => this.row(person)));
  }

  row({ user, role }) {
    const handle = user.username ?? user.telegramUsername;
    const actions = this.actions(user, role);
    return h(
      "li",
      { class: "person", dataset: { userId: String(user.id) } },
      h(
        "div",
        { class: "list__row" },
        avatarElement(user, "small"),
        h(
          "span",
          { class: "list__text" },
          this.name(user),
          handle ? h("span", { class: "list__subtitle" }, `@${handle}`) : null,
        ),
        ROLE_LABELS[role] ? h("span", { class: `role role--${role}` }, t(ROLE_LABELS[role])) : null,
      ),
      actions.length ? h("div", { class: "person__actions" }, actions) : null,
    );
  }

  /** The name; mine as "Name (you)" where a long name gives way but "(you)" stays. */
  name(user) {
    const title = h("span", { class: "list__title person__name" });
    if (user.id !== this.view.me.id) {
      title.textContent = user.displayName;
      return title;
    }
    renderInto(title, "youName", { name: h("span", { class: "person__name-text" }, user.displayName) });
    for (const node of [...title.childNodes]) {
      if (node.nodeType === Node.TEXT_NODE) node.replaceWith(h("span", { class: "person__you" }, node.data));
    }
    return title;
  }

  actions(user, role) {
    const { view } = this;
    if (user.id === view.me.id || user.id === view.room.host?.id || role === "host") return [];
    const base = `/api/rooms/${view.room.id}`;
    const action = (label, onclick, destructive = false) =>
      h("button", { type: "button", class: `chip${destructive ? " chip--destructive" : ""}`, onclick }, label);
    const actions = [];
    if (view.can(Action.MODERATORS)) {
      actions.push(
        role === "moderator"
          ? action(t("removeModerator"), () => view.rest("DELETE", `${base}/moderators/${user.id}`))
          : action(t("makeModerator"), () => view.rest("POST", `${base}/moderators/${user.id}`)),
      );
    }
    if (view.can(Action.HANDOVER)) {
      actions.push(
        action(t("makeHost"), async () => {
          if (await confirmAction(t("makeHostConfirm", { name: user.displayName }))) {
            view.rest("POST", `${base}/handover`, { userId: user.id });
          }
        }),
      );
    }
    if (view.can(Action.KICK) && view.actsOn(role)) {
      actions.push(
        action(
          t("kick"),
          async () => {
            if (await confirmAction(t("kickConfirm", { name: user.displayName }))) {
              view.rest("POST", `${base}/kick/${user.id}`);
            }
          },
          true,
        ),
      );
    }
    return actions;
  }
}
