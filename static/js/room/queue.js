// The Queue tab: the item on screen, then what plays next. Whoever may change the queue
// (Action.QUEUE, by the room's control mode) adds links, reorders, removes, plays an item now
// and skips; everyone else may vote to skip.

import { h } from "../dom.js";
import { messageFor } from "../errors.js";
import { t } from "../i18n.js";
import { Action } from "../permissions.js";
import { haptic } from "../telegram.js";
import { formatTime, toast } from "../ui.js";

export class QueuePanel {
  constructor(view) {
    this.view = view;
    this.$ = view.$;
    this.list = view.$("#queue");
    this.bind();
  }

  /** A queue command whose ack may carry {playback, queue}; errors become a toast. */
  async run(event, payload) {
    try {
      const result = await this.view.command(event, payload);
      if (result.queue) this.view.queue = result.queue; // the new item first, then its playback
      if (result.playback) this.view.playerPanel.applyPlayback(result.playback);
      this.view.setQueue(result.queue);
      return result;
    } catch (error) {
      haptic("error");
      toast(messageFor(error));
      return null;
    }
  }

  render() {
    const { view } = this;
    const can = view.can(Action.QUEUE);
    const currentId = view.playback?.mediaId ?? null;
    const upcoming = view.queue.filter((item) => item.id !== currentId);
    const rows = view.queue.map((item) => {
      const current = item.id === currentId;
      const subtitle = [
        item.isLive ? t("live") : item.duration ? formatTime(item.duration) : null,
        item.addedBy ? t("addedBy", { name: item.addedBy.displayName }) : null,
      ]
        .filter(Boolean)
        .join(" · ");
      let buttons = [];
      if (can && !current) {
        const index = upcoming.indexOf(item);
        const move = (step) =>
          this.moveButton(step, index + step >= 0 && index + step < upcoming.length, () =>
            this.move(upcoming, index, step),
          );
        buttons = [
          move(-1),
          move(1),
          h("button", { type: "button", class: "chip", onclick: () => this.playNow(item) }, t("playNow")),
          h(
            "button",
            {
              type: "button",
              class: "icon-button icon-button--small",
              "aria-label": t("remove"),
              onclick: () => this.run("queue:remove", { mediaId: item.id }),
            },
            "✕",
          ),
        ];
      }
      return h(
        "li",
        { dataset: { mediaId: String(item.id) } },
        h(
          "div",
          { class: `list__row${current ? " list__row--current" : ""}` },
          h(
            "span",
            { class: "list__text" },
            h("span", { class: "list__title" }, item.title),
            h("span", { class: "list__subtitle" }, subtitle),
          ),
          buttons,
        ),
      );
    });
    this.list.replaceChildren(...rows);
    this.list.hidden = rows.length === 0;
    this.$("#queue-empty").hidden = rows.length > 0;
    this.$("#queue-form").hidden = !can;
    this.$("#queue-next").hidden = !can;
    this.$("#queue-vote-skip").hidden = can || !currentId || !view.can(Action.VOTE_SKIP);
  }

  playNow(item) {
    this.view.playerPanel.unlock();
    this.run("player:load", { mediaId: item.id });
  }

  /** "Move up" (step -1) or "Move down" (step 1) for an upcoming queue item. */
  moveButton(step, enabled, onclick) {
    const label = t(step < 0 ? "moveUp" : "moveDown");
    return h(
      "button",
      {
        type: "button",
        class: "icon-button icon-button--small queue__move",
        dataset: { step: String(step) },
        "aria-label": label,
        title: label,
        disabled: !enabled,
        onclick,
      },
      step < 0 ? "↑" : "↓",
    );
  }

  /** Swap the upcoming item at `index` with its neighbour `step` (-1 up, 1 down). */
  async move(upcoming, index, step) {
    const ids = upcoming.map((item) => item.id);
    [ids[index], ids[index + step]] = [ids[index + step], ids[index]];
    haptic("selection");
    if (!(await this.run("queue:reorder", { mediaIds: ids }))) return;
    // Keep the keyboard focus with the moved item (same direction, else the other one).
    const row = this.$(`#queue [data-media-id="${ids[index + step]}"]`);
    const buttons = [...(row?.querySelectorAll(".queue__move") ?? [])];
    const same = buttons.find((button) => button.dataset.step === String(step) && !button.disabled);
    (same ?? buttons.find((button) => !button.disabled))?.focus();
  }

  bind() {
    this.$("#queue-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = this.$("#queue-url");
      const url = input.value.trim();
      if (!url) return;
      this.$("#queue-error").textContent = "";
      try {
        const { queue } = await this.view.command("queue:add", { url });
        input.value = "";
        this.view.setQueue(queue);
        haptic("success");
        // Nothing playing yet: start what was just added.
        if (!this.view.playback?.mediaId && queue.length) {
          const { playback } = await this.view.command("player:load", { mediaId: queue[queue.length - 1].id });
          this.view.playerPanel.applyPlayback(playback);
        }
      } catch (error) {
        haptic("error");
        this.$("#queue-error").textContent = error.details?.field === "url" ? t("linkUnsupported") : messageFor(error);
      }
    });
    this.$("#queue-next").addEventListener("click", () => this.run("queue:next"));
    this.$("#queue-vote-skip").addEventListener("click", async () => {
      try {
        const { votes, needed, skipped } = await this.view.command("queue:vote-skip");
        haptic("light");
        toast(skipped ? t("skipped") : t("skipVotes", { votes, needed }));
      } catch (error) {
        toast(messageFor(error));
      }
    });
  }
}
